/**
 * Splits the bytes of a connection into HTTP/2 frames (RFC 9113 §4.1). Pure: no I/O.
 *
 * Invariant: at most one incomplete frame is buffered, and a frame is refused as soon as its
 * header announces more than `maxFrameBytes`, so the buffer never exceeds 9 + maxFrameBytes
 * bytes plus the tail of one chunk.
 */
import { ErrorCode, frameHeaderBytes } from '@keel/h2';
import { ConnectionError } from './errors';

export interface FrameSink {
  onFrame(type: number, flags: number, streamId: number, payload: Buffer): void;
}

export class FrameReader {
  private pending: Buffer | undefined;

  constructor(
    private readonly sink: FrameSink,
    private readonly maxFrameBytes: number,
  ) {}

  /** Feeds one chunk; calls the sink once per complete frame, in order. Throws ConnectionError. */
  push(chunk: Buffer): void {
    let bytes = chunk;
    if (this.pending !== undefined) {
      bytes = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let offset = 0;
    while (bytes.length - offset >= frameHeaderBytes) {
      const length = bytes.readUIntBE(offset, 3);
      if (length > this.maxFrameBytes) {
        throw new ConnectionError(ErrorCode.FrameSizeError, `frame of ${length} bytes exceeds the maximum ${this.maxFrameBytes}`);
      }
      const end = offset + frameHeaderBytes + length;
      if (end > bytes.length) break;
      const type = bytes[offset + 3]!;
      const flags = bytes[offset + 4]!;
      const streamId = bytes.readUInt32BE(offset + 5) & 0x7fffffff;
      const payload = bytes.subarray(offset + frameHeaderBytes, end);
      offset = end;
      this.sink.onFrame(type, flags, streamId, payload);
    }
    // Copy the tail: a subarray would keep the whole (possibly large) chunk alive.
    if (offset < bytes.length) this.pending = Buffer.from(bytes.subarray(offset));
  }

  /** Bytes of an incomplete frame held back (bounded, see the invariant). */
  get bufferedBytes(): number {
    return this.pending?.length ?? 0;
  }
}
