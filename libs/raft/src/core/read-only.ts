import type { Message, ReadOnlyOption } from '../types';

/** Upper bound on queued ReadIndex requests at the leader; beyond it requests are dropped. */
export const MAX_PENDING_READ_INDEX = 16384;

/** A ReadIndex request waiting for a quorum of heartbeat acks. */
export interface ReadIndexStatus {
  req: Message;
  /** The leader's commit index when the request arrived: the read point if leadership is confirmed. */
  index: number;
  /** Voters that acknowledged a heartbeat carrying this request's context. */
  acks: Map<bigint, boolean>;
}

/** Map key for a request context (bytes → string, one char per byte). */
export function ctxKey(ctx: Uint8Array): string {
  let key = '';
  for (let i = 0; i < ctx.length; i++) key += String.fromCharCode(ctx[i]!);
  return key;
}

/**
 * Leader-side queue of ReadIndex requests (thesis §6.4). Requests are confirmed in arrival order:
 * a quorum of acks for a context confirms it and every request queued before it, which is how one
 * heartbeat round serves a whole batch.
 */
export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  constructor(readonly option: ReadOnlyOption) {}

  get size(): number {
    return this.queue.length;
  }

  /** Queues a request; the context is m.entries[0].data. Returns false if dropped (duplicate or full). */
  addRequest(index: number, m: Message): boolean {
    const key = ctxKey(m.entries[0]!.data);
    if (this.pending.has(key) || this.queue.length >= MAX_PENDING_READ_INDEX) return false;
    this.pending.set(key, { req: m, index, acks: new Map() });
    this.queue.push(key);
    return true;
  }

  /** Records an ack from `id` for `ctx`; returns the acks so far, or undefined if ctx is unknown. */
  recvAck(id: bigint, ctx: Uint8Array): Map<bigint, boolean> | undefined {
    const rs = this.pending.get(ctxKey(ctx));
    if (rs === undefined) return undefined;
    rs.acks.set(id, true);
    return rs.acks;
  }

  /** Dequeues and returns every request up to and including the one with context `ctx`. */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const key = ctxKey(ctx);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const done: ReadIndexStatus[] = [];
    for (let i = 0; i <= at; i++) {
      const k = this.queue[i]!;
      done.push(this.pending.get(k)!);
      this.pending.delete(k);
    }
    this.queue = this.queue.slice(at + 1);
    return done;
  }

  /** Context of the most recent pending request, to piggyback on heartbeats. */
  lastPendingRequestCtx(): Uint8Array | undefined {
    const key = this.queue[this.queue.length - 1];
    return key === undefined ? undefined : this.pending.get(key)!.req.entries[0]!.data;
  }
}
