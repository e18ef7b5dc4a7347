/**
 * gRPC length-prefixed message framing: 1 byte compressed-flag, 4 bytes big-endian length,
 * then the message. Pure: no I/O, so it is tested byte by byte.
 */
import zlib from 'node:zlib';
import { encodeGrpcFrame, grpcFrameHeaderBytes } from '@keel/h2';
import { GrpcError, GrpcStatus } from './status';

/** Request encodings we can decompress (`grpc-encoding`); responses are always sent uncompressed. */
export type MessageEncoding = 'identity' | 'gzip' | 'deflate';

/** The encoding named by a `grpc-encoding` header, or undefined when we cannot decode it. */
export function messageEncodingOf(header: string | undefined): MessageEncoding | undefined {
  if (header === undefined || header === '' || header === 'identity') return 'identity';
  if (header === 'gzip' || header === 'deflate') return header;
  return undefined;
}

export const FRAME_HEADER_BYTES = grpcFrameHeaderBytes;

/** Prefixes `message` with an uncompressed frame header. */
export const encodeFrame = encodeGrpcFrame;

/**
 * Reassembles messages from arbitrary chunks (a frame may span many chunks, a chunk may hold
 * many frames). Invariant: `buffered` holds only bytes of the current, incomplete frame.
 * A length over `maxMessageBytes` is refused as soon as the header is seen, before buffering
 * the body, so an oversized request cannot make us allocate.
 */
export class Deframer {
  private chunks: Buffer[] = [];
  private bufferedBytes = 0;
  /** Total bytes (header + body) of the pending frame once its header is known, else 0. */
  private pendingFrameBytes = 0;

  constructor(
    private readonly maxMessageBytes: number,
    private readonly encoding: MessageEncoding = 'identity',
  ) {}

  /** Feeds one chunk; returns the messages it completed (possibly none). Throws GrpcError. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.length;
    // A large frame arriving in many chunks is joined once, when complete (not per chunk).
    if (this.pendingFrameBytes > 0 && this.bufferedBytes < this.pendingFrameBytes) return [];
    let data = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks, this.bufferedBytes);
    const out: Buffer[] = [];
    this.pendingFrameBytes = 0;
    while (data.length >= FRAME_HEADER_BYTES) {
      const end = FRAME_HEADER_BYTES + this.readLength(data);
      if (data.length < end) {
        this.pendingFrameBytes = end;
        break;
      }
      const body = data.subarray(FRAME_HEADER_BYTES, end);
      out.push(data[0] === 0 ? body : this.decompress(body));
      data = data.subarray(end);
    }
    this.chunks = data.length === 0 ? [] : [data];
    this.bufferedBytes = data.length;
    return out;
  }

  /** True when a partial frame is pending (the client half-closed mid-message if so). */
  get hasPartial(): boolean {
    return this.bufferedBytes > 0;
  }

  private readLength(header: Buffer): number {
    const flag = header[0];
    if (flag !== 0 && (flag !== 1 || this.encoding === 'identity')) {
      throw new GrpcError(GrpcStatus.INTERNAL, 'grpc: compressed flag set with identity or empty encoding');
    }
    const length = header.readUInt32BE(1);
    if (length > this.maxMessageBytes) {
      throw new GrpcError(
        GrpcStatus.RESOURCE_EXHAUSTED,
        `grpc: received message larger than max (${length} vs. ${this.maxMessageBytes})`,
      );
    }
    return length;
  }

  /** Inflates one compressed message; the output is capped so a small "zip bomb" cannot blow up memory. */
  private decompress(body: Buffer): Buffer {
    const options = { maxOutputLength: this.maxMessageBytes + 1 };
    let inflated: Buffer;
    try {
      inflated = this.encoding === 'gzip' ? zlib.gunzipSync(body, options) : zlib.inflateSync(body, options);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') inflated = Buffer.alloc(this.maxMessageBytes + 1);
      else throw new GrpcError(GrpcStatus.INTERNAL, `grpc: failed to decompress the received message: ${(err as Error).message}`);
    }
    if (inflated.length > this.maxMessageBytes) {
      throw new GrpcError(
        GrpcStatus.RESOURCE_EXHAUSTED,
        `grpc: received message after decompression larger than max (${inflated.length} vs. ${this.maxMessageBytes})`,
      );
    }
    return inflated;
  }
}
