/**
 * Snapshot transfer on its own connection (kind SNAPSHOT), so a multi-megabyte body never
 * delays heartbeats on the message stream:
 *   SNAP_META(meta) SNAP_CHUNK(bytes)* SNAP_END(u64 total, sha256)  →  SNAP_ACK(u8 ok, reason)
 * The receiver checks length and SHA-256 before acknowledging; the sender's promise settles
 * with the ack, so its caller can tell raft (reportSnapshot) whether the transfer succeeded.
 */
import { createHash } from 'node:crypto';
import type net from 'node:net';
import type tls from 'node:tls';
import { dialPeer } from './dial';
import { ConnectionKind, type Frame, type FrameReader, FrameType, encodeFrame, encodeFrameHeader } from './wire';

export interface SnapshotSendOptions {
  readonly url: string;
  readonly from: bigint;
  readonly to: bigint;
  readonly clusterId: bigint;
  readonly dialTimeoutMs: number;
  readonly chunkBytes: number;
  readonly tls?: tls.ConnectionOptions;
}

/** Streams one snapshot to a peer; resolves when the peer has stored it, rejects otherwise. */
export async function sendSnapshotTo(
  options: SnapshotSendOptions,
  meta: Uint8Array,
  data: Uint8Array | AsyncIterable<Uint8Array>,
): Promise<void> {
  const { socket, reader, pending } = await dialPeer({
    url: options.url,
    kind: ConnectionKind.SNAPSHOT,
    from: options.from,
    to: options.to,
    clusterId: options.clusterId,
    timeoutMs: options.dialTimeoutMs,
    ...(options.tls ? { tls: options.tls } : {}),
  });
  const ack = waitForAck(socket, reader, pending);
  ack.catch(() => undefined); // observed below; avoid an unhandled rejection while still writing
  try {
    await writeSnapshot(socket, options.chunkBytes, meta, data).catch(async (writeErr: unknown) => {
      // The peer may have refused the snapshot mid-stream: its ack explains better than a broken pipe.
      await ack;
      throw writeErr;
    });
    await ack;
  } finally {
    socket.destroy();
  }
}

async function writeSnapshot(
  socket: net.Socket,
  chunkBytes: number,
  meta: Uint8Array,
  data: Uint8Array | AsyncIterable<Uint8Array>,
): Promise<void> {
  socket.resume();
  socket.write(encodeFrame(FrameType.SNAP_META, meta));
  const hash = createHash('sha256');
  let total = 0;
  for await (const chunk of rechunk(data, chunkBytes)) {
    hash.update(chunk);
    total += chunk.length;
    socket.write(encodeFrameHeader(FrameType.SNAP_CHUNK, chunk.length));
    if (!socket.write(chunk)) await drainOrClose(socket);
  }
  const end = Buffer.alloc(8 + 32);
  end.writeBigUInt64BE(BigInt(total), 0);
  hash.digest().copy(end, 8);
  socket.write(encodeFrame(FrameType.SNAP_END, end));
}

function waitForAck(socket: net.Socket, reader: FrameReader, pending: Frame[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const handle = (frames: Frame[]): boolean => {
      for (const frame of frames) {
        if (frame.type !== FrameType.SNAP_ACK) continue;
        if (frame.payload[0] === 1) resolve();
        else reject(new Error(`peer rejected snapshot: ${frame.payload.subarray(1).toString('utf8')}`));
        return true;
      }
      return false;
    };
    if (handle(pending)) return;
    socket.on('data', (chunk: Buffer) => {
      try {
        if (handle(reader.push(chunk))) socket.removeAllListeners('data');
      } catch (err) {
        reject(err as Error);
      }
    });
    socket.once('close', () => reject(new Error('snapshot connection closed before the peer acknowledged')));
    socket.on('error', () => undefined);
  });
}

function drainOrClose(socket: net.Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      socket.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      socket.off('drain', onDrain);
      reject(new Error('snapshot connection closed while sending'));
    };
    socket.once('drain', onDrain);
    socket.once('close', onClose);
  });
}

/** Re-slices the caller's data into wire chunks of at most `size` bytes. */
async function* rechunk(data: Uint8Array | AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  const source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> = data instanceof Uint8Array ? [data] : data;
  for await (const piece of source) {
    for (let offset = 0; offset < piece.length; offset += size) yield piece.subarray(offset, offset + size);
  }
}

/**
 * Receiving side: turns SNAP_* frames into the `data` iterable handed to onSnapshot, pausing
 * the socket while more than `bufferedMax` chunks wait for the consumer.
 */
export class SnapshotReceiver {
  private readonly chunks = new ChunkQueue();
  private readonly hash = createHash('sha256');
  private total = 0;
  private meta: Buffer | undefined;
  private verified = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly bufferedMax: number,
    private readonly start: (meta: Buffer, data: AsyncIterable<Buffer>) => Promise<void>,
  ) {
    this.chunks.onLow = () => socket.resume();
    socket.once('close', () => this.chunks.fail(new Error(`snapshot stream broke after ${this.total} bytes`)));
  }

  /** Handles one frame; throws on a protocol violation (the caller closes the connection). */
  onFrame(frame: Frame): void {
    if (frame.type === FrameType.SNAP_META) {
      if (this.meta !== undefined) throw new Error('second SNAP_META on one snapshot connection');
      this.meta = Buffer.from(frame.payload);
      this.run(this.meta);
      return;
    }
    if (this.meta === undefined) throw new Error(`snapshot frame ${frame.type} before SNAP_META`);
    if (frame.type === FrameType.SNAP_CHUNK) {
      const chunk = Buffer.from(frame.payload); // the frame's bytes may share a reused buffer
      this.hash.update(chunk);
      this.total += chunk.length;
      this.chunks.push(chunk);
      if (this.chunks.length >= this.bufferedMax) this.socket.pause();
    } else if (frame.type === FrameType.SNAP_END) {
      this.finishBody(frame.payload);
    } else {
      throw new Error(`unexpected frame ${frame.type} on snapshot connection`);
    }
  }

  private finishBody(payload: Buffer): void {
    const expectedTotal = payload.length === 40 ? Number(payload.readBigUInt64BE(0)) : -1;
    const expectedHash = payload.subarray(8);
    if (expectedTotal !== this.total) {
      this.chunks.fail(new Error(`snapshot length mismatch: sender says ${expectedTotal}, got ${this.total}`));
    } else if (!this.hash.digest().equals(expectedHash)) {
      this.chunks.fail(new Error('snapshot checksum mismatch'));
    } else {
      this.verified = true;
      this.chunks.end();
    }
  }

  private run(meta: Buffer): void {
    this.start(meta, this.chunks).then(
      () => {
        // A consumer that read to the end has seen the verified end of the body; one that
        // stopped early has not stored the whole snapshot.
        this.ack(this.verified, this.verified ? '' : 'snapshot handler finished before reading the whole body');
      },
      (err: unknown) => this.ack(false, err instanceof Error ? err.message : String(err)),
    );
  }

  private ack(ok: boolean, reason: string): void {
    if (this.socket.destroyed) return;
    const payload = Buffer.concat([Buffer.from([ok ? 1 : 0]), Buffer.from(reason, 'utf8')]);
    this.socket.end(encodeFrame(FrameType.SNAP_ACK, payload));
  }
}

/** An async iterable of chunks fed by push(); ends with end() or throws after fail(). */
class ChunkQueue implements AsyncIterable<Buffer> {
  onLow: () => void = () => undefined;
  private items: Buffer[] = [];
  private done = false;
  private error: Error | undefined;
  private wake: (() => void) | undefined;

  get length(): number {
    return this.items.length;
  }

  push(chunk: Buffer): void {
    if (this.done) return;
    this.items.push(chunk);
    this.notify();
  }

  end(): void {
    this.settle();
  }

  fail(err: Error): void {
    if (this.done) return;
    this.error = err;
    this.settle();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    for (;;) {
      const next = this.items.shift();
      if (next !== undefined) {
        if (this.items.length === 0) this.onLow();
        yield next;
        continue;
      }
      if (this.error !== undefined) throw this.error;
      if (this.done) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private settle(): void {
    if (this.done) return;
    this.done = true;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
