/**
 * Test support: an in-memory socket and a scripted HTTP/2 client that speaks raw frames to the
 * lean server, decoding what comes back (HPACK included) so tests read as frame transcripts.
 * Not used by the member.
 */
import { Duplex } from 'node:stream';
import {
  Flag, FrameType, HpackDecoder, HpackEncoder, connectionPreface, encodeGrpcFrame, frameHeader, settingsFrame,
  type HeaderList,
} from '@keel/h2';
import { FrameReader } from './frame-reader';

/** A Duplex standing in for a TCP socket: what the server writes is recorded, one entry per write. */
export class MemorySocket extends Duplex {
  readonly writes: Buffer[] = [];
  readonly remoteAddress = '192.0.2.7';
  readonly remotePort = 4321;
  ended = false;
  private readonly writeListeners: ((chunk: Buffer) => void)[] = [];

  override _read(): void {
    // Bytes arrive through push() from the test.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.writes.push(chunk);
    for (const listener of this.writeListeners) listener(chunk);
    done();
  }

  override _final(done: (err?: Error | null) => void): void {
    this.ended = true;
    done();
  }

  onServerWrite(listener: (chunk: Buffer) => void): void {
    this.writeListeners.push(listener);
  }
}

export interface ReceivedFrame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
  /** Decoded fields, for HEADERS (with its CONTINUATIONs folded in). */
  readonly headers?: HeaderList;
}

export const GRPC_HEADERS = (path: string, extra: [string, string][] = []): [string, string][] => [
  [':method', 'POST'], [':scheme', 'http'], [':path', path], [':authority', 'localhost'],
  ['content-type', 'application/grpc'], ['te', 'trailers'], ...extra,
];

/** The client side of one connection. */
export class TestPeer {
  readonly frames: ReceivedFrame[] = [];
  readonly encoder = new HpackEncoder();
  private readonly decoder = new HpackDecoder();
  private readonly reader: FrameReader;
  private headerParts: { streamId: number; flags: number; parts: Buffer[] } | undefined;

  constructor(readonly socket: MemorySocket) {
    this.reader = new FrameReader({ onFrame: (type, flags, streamId, payload) => this.onFrame(type, flags, streamId, payload) }, 2 ** 24 - 1);
    socket.onServerWrite((chunk) => this.reader.push(chunk));
  }

  /** Raw bytes to the server. */
  send(...buffers: Buffer[]): void {
    this.socket.push(Buffer.concat(buffers));
  }

  frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
    return Buffer.concat([frameHeader(payload.length, type, flags, streamId), payload]);
  }

  /** Client preface plus SETTINGS (and nothing else). */
  preface(settings: [number, number][] = []): void {
    this.send(connectionPreface, settingsFrame(settings));
  }

  headersFrame(streamId: number, fields: [string, string][], endStream = false): Buffer {
    const block = this.encoder.encode(fields);
    return this.frame(FrameType.Headers, Flag.EndHeaders | (endStream ? Flag.EndStream : 0), streamId, block);
  }

  /** HEADERS for `path`, then `message` gRPC-framed in one DATA frame that ends the stream. */
  unary(streamId: number, path: string, message: Buffer, extra: [string, string][] = []): void {
    this.send(
      this.headersFrame(streamId, GRPC_HEADERS(path, extra)),
      this.frame(FrameType.Data, Flag.EndStream, streamId, encodeGrpcFrame(message)),
    );
  }

  windowUpdate(streamId: number, increment: number): void {
    const payload = Buffer.allocUnsafe(4);
    payload.writeUInt32BE(increment);
    this.send(this.frame(FrameType.WindowUpdate, 0, streamId, payload));
  }

  of(streamId: number, type?: number): ReceivedFrame[] {
    return this.frames.filter((f) => f.streamId === streamId && (type === undefined || f.type === type));
  }

  /** The stream's response: header blocks in order and the concatenated DATA. */
  response(streamId: number): { headers: HeaderList[]; data: Buffer; ended: boolean } {
    const frames = this.of(streamId);
    return {
      headers: frames.filter((f) => f.headers !== undefined).map((f) => f.headers!),
      data: Buffer.concat(frames.filter((f) => f.type === FrameType.Data).map((f) => f.payload)),
      ended: frames.some((f) => (f.type === FrameType.Headers || f.type === FrameType.Data) && (f.flags & Flag.EndStream) !== 0),
    };
  }

  goAway(): { lastStreamId: number; code: number } | undefined {
    const frame = this.frames.find((f) => f.type === FrameType.GoAway);
    return frame && { lastStreamId: frame.payload.readUInt32BE(0), code: frame.payload.readUInt32BE(4) };
  }

  /** Waits until `predicate` holds (checked after every server write and every few ms). */
  async until(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
    const started = Date.now();
    while (!predicate()) {
      if (Date.now() - started > timeoutMs) throw new Error('timed out waiting for the server');
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (type === FrameType.Headers || type === FrameType.Continuation) {
      const pending = this.headerParts ?? { streamId, flags, parts: [] };
      pending.parts.push(Buffer.from(payload));
      if ((flags & Flag.EndHeaders) === 0) {
        this.headerParts = pending;
        return;
      }
      this.headerParts = undefined;
      const headers = this.decoder.decode(Buffer.concat(pending.parts));
      this.frames.push({ type: FrameType.Headers, flags: pending.flags | Flag.EndHeaders, streamId, payload: Buffer.concat(pending.parts), headers });
      return;
    }
    this.frames.push({ type, flags, streamId, payload: Buffer.from(payload) });
  }
}
