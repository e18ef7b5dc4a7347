// An in-memory WatchSource for the watch hub's unit tests: a list of every event ever
// written, with etcd's revision rules, and hooks to hold history reads open so tests can
// write while a watcher is catching up.

import { CompactedError, FutureRevisionError } from '../src/errors';
import {
  EventType,
  type CommittedListener,
  type CompactedListener,
  type Event,
  type KeyRange,
  type KeyValue,
  type ReadEventsOptions,
  type ReadEventsResult,
  type WatchSource,
} from '../src/types';

/** A read gate that lets reads through at once. */
export const openGate = (): Promise<void> => Promise.resolve();

export type FakeOp = { put: string; value?: string } | { del: string };

function inRange(key: Buffer, range: KeyRange): boolean {
  const start = Buffer.from(range.key);
  if (range.rangeEnd === undefined || range.rangeEnd.length === 0) return key.equals(start);
  if (Buffer.compare(key, start) < 0) return false;
  if (range.rangeEnd.length === 1 && range.rangeEnd[0] === 0) return true;
  return Buffer.compare(key, Buffer.from(range.rangeEnd)) < 0;
}

export class FakeSource implements WatchSource {
  readonly history: Event[] = [];
  private revision = 0;
  private compacted = 0;
  private readonly latest = new Map<string, KeyValue>();
  private readonly listeners = new Set<CommittedListener>();
  private batching: { events: Event[] } | null = null;
  /** Awaited by every history read before it answers (tests hold reads open with it). */
  readGate: () => Promise<void> = openGate;
  readCalls: Array<{ from: number; to: number; limit: number }> = [];
  prevKvLookups = 0;
  failNextReads = 0;

  currentRevision(): number {
    return this.revision;
  }

  compactRevision(): number {
    return this.compacted;
  }

  onCommitted(listener: CommittedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onCompacted(_listener: CompactedListener): () => void {
    return () => undefined;
  }

  /** One revision with every op in it (a transaction). Returns the revision. */
  txn(ops: FakeOp[]): number {
    const revision = ++this.revision;
    const events: Event[] = [];
    for (const op of ops) {
      const event = 'put' in op ? this.applyPut(op.put, op.value ?? `v${revision}`, revision) : this.applyDel(op.del, revision);
      if (event !== null) events.push(event);
    }
    if (events.length === 0) {
      this.revision--;
      return this.revision;
    }
    this.history.push(...events);
    if (this.batching !== null) this.batching.events.push(...events);
    else this.emit(events);
    return revision;
  }

  put(key: string, value?: string): number {
    return this.txn([{ put: key, value }]);
  }

  del(key: string): number {
    return this.txn([{ del: key }]);
  }

  /** Several transactions committed as one batch (one onCommitted call). */
  batch(body: () => void): void {
    this.batching = { events: [] };
    try {
      body();
    } finally {
      const { events } = this.batching;
      this.batching = null;
      if (events.length > 0) this.emit(events);
    }
  }

  /** Installs writes without telling listeners (what a raft snapshot does to a follower). */
  restoreWith(body: () => void): void {
    const listeners = [...this.listeners];
    this.listeners.clear();
    try {
      body();
    } finally {
      for (const listener of listeners) this.listeners.add(listener);
    }
  }

  compact(revision: number): void {
    this.compacted = revision;
  }

  async readEvents(
    fromRevision: number,
    toRevision: number,
    range: KeyRange,
    limit: number,
    options: ReadEventsOptions = {},
  ): Promise<ReadEventsResult> {
    this.readCalls.push({ from: fromRevision, to: toRevision, limit });
    await this.readGate();
    if (this.failNextReads > 0) {
      this.failNextReads--;
      throw new Error('fake: read failed');
    }
    if (fromRevision < this.compacted) throw new CompactedError();
    if (toRevision > this.revision) throw new FutureRevisionError();
    const events: Event[] = [];
    let nextRevision = toRevision + 1;
    for (const event of this.history) {
      const revision = event.kv.modRevision;
      if (revision < fromRevision || revision > toRevision) continue;
      if (events.length >= limit && revision !== events[events.length - 1]!.kv.modRevision) {
        nextRevision = revision;
        break;
      }
      if (!inRange(event.kv.key, range)) continue;
      events.push(options.withPrevKv === true ? { ...event, prevKv: this.versionBefore(event.kv) } : stripPrev(event));
    }
    return { events, nextRevision };
  }

  async prevKvOf(kv: KeyValue): Promise<KeyValue | undefined> {
    this.prevKvLookups++;
    await Promise.resolve();
    return this.versionBefore(kv);
  }

  private versionBefore(kv: KeyValue): KeyValue | undefined {
    for (let i = this.history.length - 1; i >= 0; i--) {
      const event = this.history[i]!;
      if (event.kv.modRevision >= kv.modRevision || !event.kv.key.equals(kv.key)) continue;
      return event.type === EventType.PUT ? event.kv : undefined;
    }
    return undefined;
  }

  private applyPut(key: string, value: string, revision: number): Event {
    const previous = this.latest.get(key);
    const kv: KeyValue = {
      key: Buffer.from(key, 'latin1'),
      createRevision: previous?.createRevision ?? revision,
      modRevision: revision,
      version: (previous?.version ?? 0) + 1,
      value: Buffer.from(value),
      lease: 0n,
    };
    this.latest.set(key, kv);
    return { type: EventType.PUT, kv };
  }

  private applyDel(key: string, revision: number): Event | null {
    if (!this.latest.has(key)) return null;
    this.latest.delete(key);
    const kv: KeyValue = { key: Buffer.from(key, 'latin1'), createRevision: 0, modRevision: revision, version: 0, value: Buffer.alloc(0), lease: 0n };
    return { type: EventType.DELETE, kv };
  }

  private emit(events: Event[]): void {
    for (const listener of this.listeners) listener(events, this.revision);
  }
}

function stripPrev(event: Event): Event {
  return { type: event.type, kv: event.kv };
}
