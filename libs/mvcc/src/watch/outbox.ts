// One stream's queue of responses waiting for its sink.
//
// A single FIFO per stream keeps every response in the order it was produced, so a
// watcher's "created" precedes its events, its events precede its cancel, and a
// stream-wide progress response follows everything it vouches for. Limits are per
// watcher: each may have at most `responsesMax` responses / `bytesMax` bytes waiting.
// The hub asks before queueing (admit); a refusal makes the watcher a victim, which
// stops its live feed. Control responses (created, canceled, progress) do not count
// against a watcher; the stream refuses client requests while too many are waiting.
//
// An entry may be "deferred": its place in the order is fixed now but its responses
// arrive later (prevKv lookups). Nothing after it is sent until it is filled.

import type { WatchResponse } from './response';
import type { ResponseUnit } from './responses-for';
import type { Watcher } from './watcher';

export interface WatchSink {
  /**
   * Delivers one response. Returning false means the consumer is backpressured: this
   * response was taken, but nothing more is sent until the stream's drain() is called.
   * Should not throw; if it does, the stream is closed (its watchers canceled) so the
   * failure stays with this consumer.
   */
  send(response: WatchResponse): boolean;
}

export interface OutboxLimits {
  responsesMax: number;
  bytesMax: number;
}

interface Entry {
  /** Owner of a data entry; null for control entries. */
  watcher: Watcher | null;
  /** null while deferred. */
  responses: WatchResponse[] | null;
  sent: number;
  /** Accounted against the owner (data entries only). */
  count: number;
  bytes: number;
}

export type DeferredEntry = Entry;

export class Outbox {
  private entries: Entry[] = [];
  private head = 0;
  private writable = true;
  private flushing = false;
  private closed = false;
  /** Control responses waiting. */
  controlQueued = 0;

  constructor(
    private readonly sink: WatchSink,
    private readonly limits: OutboxLimits,
    /** Called after a watcher's queued output shrank (it may leave the victim state). */
    private readonly onReleased: (watcher: Watcher) => void,
    /** Called once if the sink throws; nothing more is sent afterwards. */
    private readonly onSinkFailed: (error: unknown) => void,
  ) {}

  /** Responses waiting (entries not fully sent), for metrics and tests. */
  get length(): number {
    return this.entries.length - this.head;
  }

  hasRoom(watcher: Watcher, count: number, bytes: number): boolean {
    if (watcher.queuedResponses === 0) return true; // always let one unit through, however big
    return (
      watcher.queuedResponses + count <= this.limits.responsesMax && watcher.queuedBytes + bytes <= this.limits.bytesMax
    );
  }

  /** True when a victim has drained enough to be worth resuming (hysteresis: half). */
  hasResumeRoom(watcher: Watcher): boolean {
    return (
      watcher.queuedResponses <= this.limits.responsesMax / 2 && watcher.queuedBytes <= this.limits.bytesMax / 2
    );
  }

  /** Queues the unit if the watcher has room; returns false (and queues nothing) otherwise. */
  admit(watcher: Watcher, unit: ResponseUnit): boolean {
    const count = unit.responses.length;
    if (!this.hasRoom(watcher, count, unit.bytes)) return false;
    this.push({ watcher, responses: unit.responses, sent: 0, count, bytes: unit.bytes });
    return true;
  }

  /** Reserves a place for responses known later; null if the watcher has no room. */
  admitDeferred(watcher: Watcher, estimatedBytes: number): DeferredEntry | null {
    if (!this.hasRoom(watcher, 1, estimatedBytes)) return null;
    const entry: Entry = { watcher, responses: null, sent: 0, count: 1, bytes: estimatedBytes };
    this.push(entry);
    return entry;
  }

  /** Fills a deferred entry; the owner's accounting moves from the estimate to the real size. */
  fill(entry: DeferredEntry, units: readonly ResponseUnit[]): void {
    if (entry.responses !== null) throw new Error('outbox: deferred entry filled twice');
    const watcher = entry.watcher!;
    const responses = units.flatMap((unit) => unit.responses);
    const bytes = units.reduce((sum, unit) => sum + unit.bytes, 0);
    if (!this.closed) {
      watcher.queuedResponses += responses.length - entry.count;
      watcher.queuedBytes += bytes - entry.bytes;
    }
    entry.responses = responses;
    entry.count = responses.length;
    entry.bytes = bytes;
    this.flush();
  }

  pushControl(response: WatchResponse): void {
    this.controlQueued++;
    this.push({ watcher: null, responses: [response], sent: 0, count: 1, bytes: 0 });
  }

  /** The sink can take more again. */
  drain(): void {
    this.writable = true;
    this.flush();
  }

  /** Drops everything; later pushes are ignored. */
  close(): void {
    this.closed = true;
    for (let i = this.head; i < this.entries.length; i++) this.release(this.entries[i]!, false);
    this.entries = [];
    this.head = 0;
  }

  private push(entry: Entry): void {
    if (this.closed) return;
    if (entry.watcher !== null) {
      entry.watcher.queuedResponses += entry.count;
      entry.watcher.queuedBytes += entry.bytes;
    }
    this.entries.push(entry);
    this.flush();
  }

  private flush(): void {
    // Re-entrancy: a sink may call back into the stream from send(); anything it queues
    // is appended and picked up by this same loop.
    if (this.flushing || !this.writable || this.closed) return;
    this.flushing = true;
    try {
      while (this.head < this.entries.length && this.writable && !this.closed) {
        const entry = this.entries[this.head]!;
        if (entry.responses === null) break; // deferred: keep order, wait for fill
        if (entry.sent < entry.responses.length && !this.sendOne(entry.responses[entry.sent++]!)) break;
        if (entry.sent === entry.responses.length) {
          this.head++;
          this.release(entry, true);
        }
      }
    } finally {
      this.flushing = false;
      this.compact();
    }
  }

  /** Returns false if the sink failed (the outbox is then closed). */
  private sendOne(response: WatchResponse): boolean {
    try {
      if (!this.sink.send(response)) this.writable = false;
      return true;
    } catch (error) {
      this.close();
      this.onSinkFailed(error);
      return false;
    }
  }

  private release(entry: Entry, notify: boolean): void {
    if (entry.watcher === null) {
      this.controlQueued--;
      return;
    }
    entry.watcher.queuedResponses -= entry.count;
    entry.watcher.queuedBytes -= entry.bytes;
    if (entry.watcher.queuedResponses < 0 || entry.watcher.queuedBytes < 0) {
      throw new Error('outbox: watcher accounting went negative');
    }
    if (notify) this.onReleased(entry.watcher);
  }

  private compact(): void {
    if (this.head === this.entries.length) {
      this.entries = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
