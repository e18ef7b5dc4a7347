/**
 * Everything the connection sends goes through here: frames queued during one event-loop turn
 * leave in a single socket write (HEADERS + DATA + trailers of a unary call, and the responses
 * of every call that finished in the same turn).
 *
 * Frame headers and small payloads are copied into a per-connection slab, so a turn's small
 * frames form one contiguous buffer without a concat; large payloads are queued as they are.
 *
 * Invariants: bytes reach the socket in the order they were queued (HPACK and frame ordering
 * depend on it); a slab region handed to the socket is never written again (new frames go
 * after it, in a fresh slab once it is full). Memory: one slab (SLAB_BYTES) per connection.
 */
import type { Duplex } from 'node:stream';
import { frameHeaderBytes } from '@keel/h2';

const SLAB_BYTES = 16 * 1024;
/** Payloads up to this size are copied into the slab; larger ones are queued by reference. */
const COPY_LIMIT_BYTES = 1024;
/** Above this many queued bytes a flush hands the socket separate buffers (writev) instead of one copy. */
const CONCAT_LIMIT_BYTES = 64 * 1024;
/** Bytes queued in one turn above which DATA waits in the streams until the next flush. */
const QUEUE_LIMIT_BYTES = 1024 * 1024;

/** Writers with queued frames and a flush scheduled (see flushQueuedResponses). */
const scheduledWriters = new Set<FrameWriter>();

/**
 * Writes every connection's queued frames now instead of at its scheduled flush (which, when
 * queued from a setImmediate callback, runs only after the next poll phase). The raft loop calls
 * this once the calls it has just answered have queued their replies and before it goes on
 * with other work (see RaftLoop.sendAnswers).
 */
export function flushQueuedResponses(): void {
  answerFlushes.calls++;
  if (scheduledWriters.size > 0) answerFlushes.found++;
  for (const writer of scheduledWriters) writer.flush();
}

/**
 * How many flushQueuedResponses() calls found replies queued. If the calls' reply path grows
 * longer than the raft loop's answer hops, `found` stops growing and replies fall back to the
 * scheduled flush, with no other symptom than latency; a test watches this.
 */
export const answerFlushes = { calls: 0, found: 0 };

export class FrameWriter {
  private parts: Buffer[] = [];
  private queuedBytes = 0;
  private slab: Buffer = Buffer.allocUnsafe(0);
  /** The slab holds unflushed bytes in [slabStart, slabUsed). */
  private slabStart = 0;
  private slabUsed = 0;
  private flushScheduled = false;
  private socketFull = false;

  constructor(
    private readonly socket: Duplex,
    /** Called when the socket has drained after being full. */
    private readonly onDrain: () => void,
  ) {
    socket.on('drain', () => {
      this.socketFull = false;
      this.onDrain();
    });
  }

  /** Queues a frame header (RFC 9113 §4.1); its payload must follow through `payload()`. */
  frameHeader(length: number, type: number, flags: number, streamId: number): void {
    const at = this.reserve(frameHeaderBytes);
    const slab = this.slab;
    slab[at] = length >>> 16;
    slab[at + 1] = (length >>> 8) & 0xff;
    slab[at + 2] = length & 0xff;
    slab[at + 3] = type;
    slab[at + 4] = flags;
    slab.writeUInt32BE(streamId & 0x7fffffff, at + 5);
  }

  /** Queues bytes (a payload, or a whole prebuilt frame). */
  payload(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (bytes.length <= COPY_LIMIT_BYTES) {
      const at = this.reserve(bytes.length);
      bytes.copy(this.slab, at);
      return;
    }
    this.sealSlab();
    this.parts.push(bytes);
    this.queuedBytes += bytes.length;
    this.schedule();
  }

  /**
   * True while the socket's own buffer is above its high-water mark (or this turn queued a lot):
   * the peer or the network is slower than we write, so DATA should wait in the streams, where
   * backpressure reaches the handlers, instead of piling up in the socket.
   */
  get congested(): boolean {
    return this.socketFull || this.queuedBytes >= QUEUE_LIMIT_BYTES;
  }

  flush(): void {
    this.flushScheduled = false;
    scheduledWriters.delete(this);
    this.sealSlab();
    if (this.parts.length === 0) return;
    const parts = this.parts;
    const bytes = this.queuedBytes;
    const wasOverLimit = bytes >= QUEUE_LIMIT_BYTES;
    this.parts = [];
    this.queuedBytes = 0;
    if (this.socket.destroyed || !this.socket.writable) return;
    let accepted: boolean;
    if (parts.length === 1 || bytes <= CONCAT_LIMIT_BYTES) {
      accepted = this.socket.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts, bytes));
    } else {
      this.socket.cork();
      accepted = true;
      for (const part of parts) accepted = this.socket.write(part) && accepted;
      this.socket.uncork();
    }
    if (!accepted) this.socketFull = true;
    // DATA held back only by our own queue limit resumes now, as it would on a socket drain.
    else if (wasOverLimit) this.onDrain();
  }

  /** Returns the slab offset where `bytes` bytes may be written, and counts them as queued. */
  private reserve(bytes: number): number {
    if (this.slab.length - this.slabUsed < bytes) {
      this.sealSlab();
      this.slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, bytes));
      this.slabStart = 0;
      this.slabUsed = 0;
    }
    const at = this.slabUsed;
    this.slabUsed += bytes;
    this.queuedBytes += bytes;
    this.schedule();
    return at;
  }

  /** Moves the slab's unflushed region into the part list (keeps order with what follows). */
  private sealSlab(): void {
    if (this.slabUsed === this.slabStart) return;
    this.parts.push(this.slab.subarray(this.slabStart, this.slabUsed));
    this.slabStart = this.slabUsed;
  }

  private schedule(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    scheduledWriters.add(this);
    setImmediate(() => this.flush());
  }
}
