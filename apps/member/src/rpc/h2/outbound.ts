/**
 * Builds the frames the server sends (RFC 9113 §6) and queues them on the writer. Header
 * blocks go through the connection's one HPACK encoder, so they must be queued in the order
 * they are encoded, which this class guarantees by queuing at once.
 */
import { Flag, FrameType, type HpackEncoder } from '@keel/h2';
import type { SendWindow } from './flow-window';
import type { PeerSettings } from './settings';
import type { H2ServerStream } from './stream';
import type { FrameWriter } from './writer';

const RESPONSE_HEADERS: [string, string][] = [[':status', '200'], ['content-type', 'application/grpc']];
const OK_TRAILERS: [string, string][] = [['grpc-status', '0']];

/** A header block and the encoder generation it is valid for (see HpackEncoder.generation). */
interface CachedBlock {
  readonly generation: number;
  readonly block: Buffer;
}

export class OutboundFrames {
  /** Blocks of the constant header lists, reused while the encoder's table is unchanged. */
  private readonly cached = new Map<readonly (readonly [string, string])[], CachedBlock>();

  constructor(
    private readonly writer: FrameWriter,
    private readonly encoder: HpackEncoder,
    private readonly peer: PeerSettings,
  ) {}

  responseHeaders(streamId: number): void {
    this.headerBlock(streamId, this.constantBlock(RESPONSE_HEADERS), false);
  }

  /** grpc-status / grpc-message trailers, ending the stream. `message` is already percent-encoded. */
  trailers(streamId: number, code: number, message: string | undefined): void {
    if (code === 0 && message === undefined) {
      this.headerBlock(streamId, this.constantBlock(OK_TRAILERS), true);
      return;
    }
    const fields: [string, string][] = [['grpc-status', String(code)]];
    if (message !== undefined) fields.push(['grpc-message', message]);
    this.headers(streamId, fields, true);
  }

  /** One HEADERS frame, followed by CONTINUATION frames when the block exceeds the peer's frame size. */
  headers(streamId: number, fields: readonly (readonly [string, string])[], endStream: boolean): void {
    this.headerBlock(streamId, this.encoder.encode(fields), endStream);
  }

  settings(frame: Buffer): void {
    this.writer.payload(frame);
  }

  settingsAck(): void {
    this.writer.frameHeader(0, FrameType.Settings, Flag.Ack, 0);
  }

  ping(ack: boolean, opaque: Buffer): void {
    this.writer.frameHeader(8, FrameType.Ping, ack ? Flag.Ack : 0, 0);
    this.writer.payload(opaque);
  }

  windowUpdate(streamId: number, increment: number): void {
    this.writer.frameHeader(4, FrameType.WindowUpdate, 0, streamId);
    this.writer.payload(uint32(increment));
  }

  /**
   * The block for a constant header list: encoded once, then reused for as long as encoding
   * it leaves the table unchanged (after the first use every field is an index).
   */
  private constantBlock(fields: readonly (readonly [string, string])[]): Buffer {
    const cached = this.cached.get(fields);
    if (cached !== undefined && cached.generation === this.encoder.generation) return cached.block;
    const before = this.encoder.generation;
    const block = this.encoder.encode(fields);
    if (this.encoder.generation === before) this.cached.set(fields, { generation: before, block });
    return block;
  }

  private headerBlock(streamId: number, block: Buffer, endStream: boolean): void {
    const max = this.peer.maxFrameBytes;
    const endFlag = endStream ? Flag.EndStream : 0;
    if (block.length <= max) {
      this.writer.frameHeader(block.length, FrameType.Headers, Flag.EndHeaders | endFlag, streamId);
      this.writer.payload(block);
      return;
    }
    for (let offset = 0; offset < block.length; offset += max) {
      const part = block.subarray(offset, offset + max);
      const first = offset === 0;
      const last = offset + max >= block.length;
      const flags = (first ? endFlag : 0) | (last ? Flag.EndHeaders : 0);
      this.writer.frameHeader(part.length, first ? FrameType.Headers : FrameType.Continuation, flags, streamId);
      this.writer.payload(part);
    }
  }

  /**
   * Frames as much of the stream's queued response as both send windows and the peer's frame
   * size allow, stopping when the socket backs up. Small messages queued together share a frame.
   */
  data(stream: H2ServerStream, connection: SendWindow): void {
    while (stream.queuedBytes > 0 && !this.writer.congested) {
      const allowed = Math.min(stream.sendWindow.bytes, connection.bytes, this.peer.maxFrameBytes, stream.queuedBytes);
      if (allowed <= 0) return;
      this.writer.frameHeader(allowed, FrameType.Data, 0, stream.id);
      this.takeQueued(stream, allowed);
      stream.sendWindow.consume(allowed);
      connection.consume(allowed);
    }
  }

  rstStream(streamId: number, code: number): void {
    this.writer.frameHeader(4, FrameType.RstStream, 0, streamId);
    this.writer.payload(uint32(code));
  }

  goAway(lastStreamId: number, code: number, debug: string): void {
    const text = Buffer.from(debug, 'utf8').subarray(0, 256);
    const payload = Buffer.allocUnsafe(8 + text.length);
    payload.writeUInt32BE(lastStreamId & 0x7fffffff, 0);
    payload.writeUInt32BE(code, 4);
    text.copy(payload, 8);
    this.writer.frameHeader(payload.length, FrameType.GoAway, 0, 0);
    this.writer.payload(payload);
  }

  /** Moves exactly `bytes` from the front of the stream's queue to the writer. */
  private takeQueued(stream: H2ServerStream, bytes: number): void {
    let left = bytes;
    while (left > 0) {
      const head = stream.queue[0]!;
      const available = head.length - stream.queueOffset;
      if (available <= left) {
        this.writer.payload(stream.queueOffset === 0 ? head : head.subarray(stream.queueOffset));
        stream.queue.shift();
        stream.queueOffset = 0;
        left -= available;
      } else {
        this.writer.payload(head.subarray(stream.queueOffset, stream.queueOffset + left));
        stream.queueOffset += left;
        left = 0;
      }
    }
    stream.queuedBytes -= bytes;
  }
}


function uint32(value: number): Buffer {
  const bytes = Buffer.allocUnsafe(4);
  bytes.writeUInt32BE(value);
  return bytes;
}
