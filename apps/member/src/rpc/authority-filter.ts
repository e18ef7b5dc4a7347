/**
 * Makes etcdctl's `--endpoints=http://host:port` work for every command.
 *
 * etcdctl 3.4 dials some commands (endpoint status, endpoint hashkv, ...) through grpc-go's
 * "passthrough" resolver with the whole URL as the target, so the HTTP/2 `:authority`
 * header arrives as "http://host:port". nghttp2 (inside node:http2) rejects such an
 * authority and resets the stream before any handler runs; etcd's Go server accepts it.
 *
 * The decision needs the first request's header block, but grpc-go (etcdctl) sends no
 * request before it has the server's SETTINGS. So the listener answers the client
 * preface at once with an empty SETTINGS frame of its own (`earlyServerSettings`), then
 * waits for the first header block:
 * - plain authority, and the client's ACK of that early SETTINGS already received: the ACK
 *   is cut out (nghttp2 treats an ACK for settings it never sent as a protocol error) and
 *   the socket itself is handed over — no cost on the hot path;
 * - otherwise `AuthorityRewritingStream` sits between the socket and the http2 server: it
 *   drops that first ACK, decodes every request header block with the client's HPACK
 *   state, drops the scheme from `:authority`, and re-encodes the block with literal
 *   fields only. Those never touch the server's HPACK table, so the two sides' tables
 *   cannot drift apart. All other frames, and everything the server sends, pass through.
 */
import { Duplex } from 'node:stream';
import type net from 'node:net';
import {
  Flag, FrameType, HpackDecoder, connectionPreface, encodeHeaderBlock, frameHeader, frameHeaderBytes,
  unpaddedPayload, type HeaderList,
} from '@keel/h2';

/** nghttp2's default SETTINGS_MAX_FRAME_SIZE, which the server advertises. */
const serverMaxFrameBytes = 16384;

interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
  /** The whole frame, header included, as received. */
  raw: Buffer;
}

/** Splits complete frames off the front of `bytes`; returns them and the bytes left over. */
function readFrames(bytes: Buffer): { frames: Frame[]; rest: Buffer } {
  const frames: Frame[] = [];
  let offset = 0;
  while (bytes.length - offset >= frameHeaderBytes) {
    const length = bytes.readUIntBE(offset, 3);
    const end = offset + frameHeaderBytes + length;
    if (end > bytes.length) break;
    frames.push({
      type: bytes[offset + 3]!,
      flags: bytes[offset + 4]!,
      streamId: bytes.readUInt32BE(offset + 5) & 0x7fffffff,
      payload: bytes.subarray(offset + frameHeaderBytes, end),
      raw: bytes.subarray(offset, end),
    });
    offset = end;
  }
  return { frames, rest: bytes.subarray(offset) };
}

/** An empty SETTINGS frame: a complete server connection preface. */
export const earlyServerSettings = frameHeader(0, FrameType.Settings, 0, 0);

function isSettingsAck(frame: Frame): boolean {
  return frame.type === FrameType.Settings && (frame.flags & Flag.Ack) !== 0;
}

/**
 * `bytes` (client preface first) without the first SETTINGS ACK frame, or undefined when
 * no ACK has arrived yet.
 */
export function withoutFirstSettingsAck(bytes: Buffer): Buffer | undefined {
  const frames = readFrames(bytes.subarray(connectionPreface.length)).frames;
  const ack = frames.find(isSettingsAck);
  if (ack === undefined) return undefined;
  const start = ack.raw.byteOffset - bytes.byteOffset;
  return Buffer.concat([bytes.subarray(0, start), bytes.subarray(start + ack.raw.length)]);
}

/** "http://host:port/x" → "host:port"; anything without a scheme is returned as is. */
export function authorityWithoutScheme(authority: string): string {
  const schemeEnd = authority.lastIndexOf('://');
  if (schemeEnd < 0) return authority;
  const rest = authority.slice(schemeEnd + 3);
  const slash = rest.indexOf('/');
  return slash < 0 ? rest : rest.slice(0, slash);
}

function authorityHasScheme(headers: HeaderList): boolean {
  return headers.some(([name, value]) => name === ':authority' && value.includes('://'));
}

/**
 * Looks at the first request header block of a connection (`bytes` starts with the client
 * preface). 'rewrite' when its `:authority` carries a scheme, 'pass' when it does not (or
 * cannot be decoded: the http2 server will answer that itself), undefined when the block
 * has not fully arrived yet.
 */
export function inspectFirstHeaders(bytes: Buffer): 'rewrite' | 'pass' | undefined {
  const { frames } = readFrames(bytes.subarray(connectionPreface.length));
  const block: Buffer[] = [];
  for (const frame of frames) {
    if (frame.type === FrameType.Headers) block.push(unpaddedPayload(frame.type, frame.flags, frame.payload));
    else if (frame.type === FrameType.Continuation && block.length > 0) block.push(frame.payload);
    else continue;
    if ((frame.flags & Flag.EndHeaders) === 0) continue;
    try {
      return authorityHasScheme(new HpackDecoder().decode(Buffer.concat(block))) ? 'rewrite' : 'pass';
    } catch {
      return 'pass';
    }
  }
  return undefined;
}

/** A HEADERS frame followed by CONTINUATION frames as needed, carrying `block`. */
function headerFrames(streamId: number, endStream: boolean, block: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let offset = 0, first = true; first || offset < block.length; first = false) {
    const part = block.subarray(offset, offset + serverMaxFrameBytes);
    offset += part.length;
    const last = offset >= block.length;
    const type = first ? FrameType.Headers : FrameType.Continuation;
    const flags = (last ? Flag.EndHeaders : 0) | (first && endStream ? Flag.EndStream : 0);
    out.push(frameHeader(part.length, type, flags, streamId), part);
  }
  return out;
}

/**
 * The socket as the http2 server sees it: the client's ACK of `earlyServerSettings`
 * removed, and every request header block re-encoded with a scheme-free `:authority`.
 */
export class AuthorityRewritingStream extends Duplex {
  private readonly decoder = new HpackDecoder();
  private inbound: Buffer = Buffer.alloc(0);
  private prefacePassed = false;
  private earlySettingsAcked = false;
  private headerBlock: { streamId: number; endStream: boolean; parts: Buffer[] } | undefined;

  /** `firstBytes` are what was read off `socket` before this stream took over. */
  constructor(
    private readonly socket: net.Socket,
    firstBytes: Buffer,
  ) {
    super();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
    this.receive(firstBytes);
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.socket.write(chunk, done);
  }

  override _final(done: (err?: Error | null) => void): void {
    this.socket.end();
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.socket.destroy();
    done(err);
  }

  private receive(chunk: Buffer): void {
    this.inbound = this.inbound.length === 0 ? chunk : Buffer.concat([this.inbound, chunk]);
    const out: Buffer[] = [];
    if (!this.prefacePassed) {
      if (this.inbound.length < connectionPreface.length) return;
      out.push(this.inbound.subarray(0, connectionPreface.length));
      this.inbound = this.inbound.subarray(connectionPreface.length);
      this.prefacePassed = true;
    }
    const { frames, rest } = readFrames(this.inbound);
    this.inbound = Buffer.from(rest);
    for (const frame of frames) this.forward(frame, out);
    if (out.length > 0 && !this.push(Buffer.concat(out))) this.socket.pause();
  }

  private forward(frame: Frame, out: Buffer[]): void {
    if (!this.earlySettingsAcked && isSettingsAck(frame)) {
      this.earlySettingsAcked = true; // it answers earlyServerSettings, which nghttp2 never sent
      return;
    }
    if (frame.type === FrameType.Headers) {
      this.headerBlock = {
        streamId: frame.streamId,
        endStream: (frame.flags & Flag.EndStream) !== 0,
        parts: [unpaddedPayload(frame.type, frame.flags, frame.payload)],
      };
    } else if (frame.type === FrameType.Continuation && this.headerBlock !== undefined) {
      this.headerBlock.parts.push(frame.payload);
    } else {
      out.push(frame.raw);
      return;
    }
    if ((frame.flags & Flag.EndHeaders) === 0) return;
    const { streamId, endStream, parts } = this.headerBlock;
    this.headerBlock = undefined;
    const headers = this.decoder.decode(Buffer.concat(parts)).map(([name, value]): [string, string] =>
      name === ':authority' ? [name, authorityWithoutScheme(value)] : [name, value],
    );
    out.push(...headerFrames(streamId, endStream, encodeHeaderBlock(headers)));
  }
}
