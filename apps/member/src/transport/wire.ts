/**
 * The peer wire format (pure encode/decode, no I/O). See transport/PROTOCOL.md.
 *
 * A connection starts with the 8 ASCII bytes "KEELPEER", then frames:
 *   u32 BE length of what follows | u8 frame type | payload
 * The dialer's first frame is HELLO, the listener answers HELLO_ACK; after an OK ack the
 * connection carries either message batches (kind STREAM) or one snapshot (kind SNAPSHOT).
 */

export const PEER_MAGIC = Buffer.from('KEELPEER', 'latin1');
export const PROTOCOL_VERSION = 1;
/** Upper bound for one frame; a larger length means a corrupt or hostile stream. */
export const FRAME_BYTES_MAX = 64 * 1024 * 1024;

export const FrameType = {
  HELLO: 1,
  HELLO_ACK: 2,
  BATCH: 3,
  PING: 4,
  PONG: 5,
  SNAP_META: 6,
  SNAP_CHUNK: 7,
  SNAP_END: 8,
  SNAP_ACK: 9,
} as const;
export type FrameTypeCode = (typeof FrameType)[keyof typeof FrameType];

export const ConnectionKind = { STREAM: 1, SNAPSHOT: 2 } as const;
export type ConnectionKindCode = (typeof ConnectionKind)[keyof typeof ConnectionKind];

export const HelloStatus = {
  OK: 0,
  CLUSTER_MISMATCH: 1,
  WRONG_MEMBER: 2,
  MEMBER_REMOVED: 3,
  BAD_VERSION: 4,
} as const;
export type HelloStatusCode = (typeof HelloStatus)[keyof typeof HelloStatus];

export interface Hello {
  readonly version: number;
  readonly kind: ConnectionKindCode;
  readonly from: bigint;
  readonly to: bigint;
  readonly clusterId: bigint;
}

export interface HelloAck {
  readonly status: HelloStatusCode;
  readonly responderId: bigint;
  readonly clusterId: bigint;
  readonly reason: string;
}

export interface Frame {
  readonly type: number;
  readonly payload: Buffer;
}

export function encodeFrameHeader(type: FrameTypeCode, payloadBytes: number): Buffer {
  const header = Buffer.allocUnsafe(5);
  header.writeUInt32BE(payloadBytes + 1, 0);
  header[4] = type;
  return header;
}

export function encodeFrame(type: FrameTypeCode, payload: Uint8Array = new Uint8Array(0)): Buffer {
  return Buffer.concat([encodeFrameHeader(type, payload.length), payload]);
}

export function encodeHello(hello: Hello): Buffer {
  const payload = Buffer.alloc(2 + 24);
  payload[0] = hello.version;
  payload[1] = hello.kind;
  payload.writeBigUInt64BE(hello.from, 2);
  payload.writeBigUInt64BE(hello.to, 10);
  payload.writeBigUInt64BE(hello.clusterId, 18);
  return encodeFrame(FrameType.HELLO, payload);
}

export function decodeHello(payload: Buffer): Hello {
  if (payload.length !== 26) throw new Error(`HELLO payload of ${payload.length} bytes, want 26`);
  const kind = payload[1]!;
  if (kind !== ConnectionKind.STREAM && kind !== ConnectionKind.SNAPSHOT) throw new Error(`unknown connection kind ${kind}`);
  return {
    version: payload[0]!,
    kind,
    from: payload.readBigUInt64BE(2),
    to: payload.readBigUInt64BE(10),
    clusterId: payload.readBigUInt64BE(18),
  };
}

export function encodeHelloAck(ack: HelloAck): Buffer {
  const reason = Buffer.from(ack.reason, 'utf8');
  const payload = Buffer.alloc(17 + reason.length);
  payload[0] = ack.status;
  payload.writeBigUInt64BE(ack.responderId, 1);
  payload.writeBigUInt64BE(ack.clusterId, 9);
  reason.copy(payload, 17);
  return encodeFrame(FrameType.HELLO_ACK, payload);
}

export function decodeHelloAck(payload: Buffer): HelloAck {
  if (payload.length < 17) throw new Error(`HELLO_ACK payload of ${payload.length} bytes, want >= 17`);
  const status = payload[0]! as HelloStatusCode;
  if (status > HelloStatus.BAD_VERSION) throw new Error(`unknown HELLO_ACK status ${status}`);
  return {
    status,
    responderId: payload.readBigUInt64BE(1),
    clusterId: payload.readBigUInt64BE(9),
    reason: payload.subarray(17).toString('utf8'),
  };
}

/** A BATCH frame as a list of buffers (header, then per message a 4-byte length and the bytes). */
export function encodeBatch(messages: readonly Uint8Array[]): Buffer[] {
  let payloadBytes = 4;
  for (const m of messages) payloadBytes += 4 + m.length;
  const head = Buffer.allocUnsafe(5 + 4);
  head.writeUInt32BE(payloadBytes + 1, 0);
  head[4] = FrameType.BATCH;
  head.writeUInt32BE(messages.length, 5);
  const parts: Buffer[] = [head];
  for (const m of messages) {
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(m.length, 0);
    parts.push(length, Buffer.from(m.buffer, m.byteOffset, m.length));
  }
  return parts;
}

export function decodeBatch(payload: Buffer): Buffer[] {
  if (payload.length < 4) throw new Error('BATCH payload shorter than its count');
  const count = payload.readUInt32BE(0);
  const messages: Buffer[] = [];
  let offset = 4;
  for (let i = 0; i < count; i++) {
    if (offset + 4 > payload.length) throw new Error('BATCH truncated in a length');
    const length = payload.readUInt32BE(offset);
    offset += 4;
    if (offset + length > payload.length) throw new Error('BATCH truncated in a message');
    messages.push(payload.subarray(offset, offset + length));
    offset += length;
  }
  if (offset !== payload.length) throw new Error('BATCH has trailing bytes');
  return messages;
}

/**
 * Splits a byte stream into frames. Invariant: the buffered bytes are the start of one
 * incomplete frame (or empty). The magic prefix is checked by the caller before this.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private bufferedBytes = 0;
  private neededBytes = 0;

  /** Feeds a chunk; returns the frames it completed. Throws on an impossible length. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.length;
    if (this.bufferedBytes < this.neededBytes) return [];
    let data = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks, this.bufferedBytes);
    const frames: Frame[] = [];
    this.neededBytes = 0;
    while (data.length >= 5) {
      const length = data.readUInt32BE(0);
      if (length < 1 || length > FRAME_BYTES_MAX) throw new Error(`peer frame length ${length} out of range`);
      if (data.length < 4 + length) {
        this.neededBytes = 4 + length;
        break;
      }
      frames.push({ type: data[4]!, payload: data.subarray(5, 4 + length) });
      data = data.subarray(4 + length);
    }
    this.chunks = data.length === 0 ? [] : [data];
    this.bufferedBytes = data.length;
    return frames;
  }
}
