// The watchable store: feeds every watcher of every stream from a WatchSource.
//
// Two ways in for events:
// - live: the source calls onCommitted synchronously after each durable batch; the
//   hub matches the batch against the synced index and queues responses at once;
// - history: watchers that are behind (started in the past, or victims of a full queue)
//   read from the source in bounded chunks through the catch-up queue, a group of them
//   per read (history-chunk.ts).
//
// The hand-over between them is where events get lost or doubled, so it rests on one
// number, `revision`: the last revision the hub has seen through onCommitted. Every
// batch up to it has been matched against the synced index. A watcher joins the synced
// group only when its nextRevision > revision — that is, after it has been given every
// event up to `revision` from history — and joining happens synchronously, between
// two onCommitted calls. So the next batch it sees is exactly the one after what history
// gave it. A watcher leaves the synced group (victim) at the first revision it could not
// queue, and history resumes from there.

import { CompactedError } from '../errors';
import type { Event, WatchSource } from '../types';
import { CatchUpQueue } from './catch-up-queue';
import { readHistoryChunk, type HistoryChunk } from './history-chunk';
import { keyText } from './key-range';
import { RESPONSE_OVERHEAD_BYTES, controlResponse, eventFieldBytes, NO_WATCH_ID } from './response';
import { PrevKvLookups, needsPrevKvLookup } from './prev-kv';
import { eventsFor, unitsFor } from './responses-for';
import { WatchStream, type StreamHost, type WatchStreamLimits } from './watch-stream';
import type { WatchSink } from './outbox';
import type { Watcher, WatcherOwner, WatcherState } from './watcher';
import { WatcherIndex } from './watcher-index';

export interface WatchHubOptions {
  /** Per watcher: responses waiting for the consumer before it becomes a victim. */
  queueResponsesMax: number;
  /** Per watcher: bytes waiting for the consumer before it becomes a victim. */
  queueBytesMax: number;
  /** Soft size of one response; fragment size for watchers that asked for fragments. */
  responseBytesMax: number;
  /** Events asked for per history read. */
  historyChunkEvents: number;
  /** History reads in flight at once. */
  catchUpConcurrency: number;
  /** Unsynced watchers served by one history read. */
  catchUpGroupMax: number;
  /** Periodic progress notifications for progress_notify watchers; 0 disables the timer. */
  progressIntervalMs: number;
  /** Per stream: unsent control responses before client requests are refused. */
  controlResponsesMax: number;
  /** Wait before retrying a failed history read. */
  retryDelayMs: number;
  /** Unexpected failures (history reads that fail for reasons other than compaction). */
  onError: (error: unknown) => void;
}

export const DEFAULT_WATCH_HUB_OPTIONS: WatchHubOptions = {
  queueResponsesMax: 128,
  queueBytesMax: 4 * 1024 * 1024,
  responseBytesMax: 1.5 * 1024 * 1024, // etcd's default --max-request-bytes
  historyChunkEvents: 1000,
  catchUpConcurrency: 2,
  catchUpGroupMax: 128,
  progressIntervalMs: 10 * 60 * 1000, // etcd's default progress report interval
  controlResponsesMax: 256,
  retryDelayMs: 100,
  onError: (error) => process.emitWarning(error instanceof Error ? error : new Error(String(error))),
};

export interface WatchHubStats {
  streams: number;
  /** All live watchers (etcd_debugging_mvcc_watcher_total). */
  watchers: number;
  synced: number;
  catchingUp: number;
  /** Watchers whose consumer fell behind (etcd's slow watchers are catchingUp + victims). */
  victims: number;
}

export class WatchHub implements StreamHost {
  private revisionValue: number;
  private readonly options: WatchHubOptions;
  private readonly synced = new WatcherIndex();
  private readonly catchUp: CatchUpQueue;
  private readonly streams = new Set<WatchStream>();
  private readonly progressWatchers = new Set<Watcher>();
  private readonly victims = new Set<Watcher>();
  private readonly unsubscribe: () => void;
  private readonly progressTimer: NodeJS.Timeout | null;
  private closed = false;

  constructor(
    private readonly source: WatchSource,
    options: Partial<WatchHubOptions> = {},
  ) {
    this.options = { ...DEFAULT_WATCH_HUB_OPTIONS, ...options };
    this.revisionValue = source.currentRevision();
    this.catchUp = new CatchUpQueue({
      concurrency: this.options.catchUpConcurrency,
      groupMax: this.options.catchUpGroupMax,
      retryDelayMs: this.options.retryDelayMs,
      step: (watcher) => this.catchUpStep(watcher),
    });
    this.unsubscribe = source.onCommitted((events, revision) => this.onCommitted(events, revision));
    this.progressTimer = null;
    if (this.options.progressIntervalMs > 0) {
      this.progressTimer = setInterval(() => this.sendProgressNotifications(), this.options.progressIntervalMs);
      this.progressTimer.unref();
    }
  }

  /** The last revision seen from the source; every event up to it has been matched. */
  get revision(): number {
    return this.revisionValue;
  }

  openStream(sink: WatchSink): WatchStream {
    if (this.closed) throw new Error('watch hub is closed');
    const limits: WatchStreamLimits = {
      responsesMax: this.options.queueResponsesMax,
      bytesMax: this.options.queueBytesMax,
      controlResponsesMax: this.options.controlResponsesMax,
    };
    const stream = new WatchStream(this, sink, limits);
    this.streams.add(stream);
    return stream;
  }

  stats(): WatchHubStats {
    return {
      streams: this.streams.size,
      watchers: [...this.streams].reduce((sum, stream) => sum + stream.watcherCount, 0),
      synced: this.synced.size,
      catchingUp: this.catchUp.size,
      victims: this.victims.size,
    };
  }

  /** Resolves once no watcher is waiting for or running a history read. */
  whenCaughtUp(): Promise<void> {
    return this.catchUp.whenIdle();
  }

  /**
   * One pass of periodic progress: every progress_notify watcher that is synced and was
   * sent no events since the previous pass gets a header-only response at `revision`.
   */
  sendProgressNotifications(): void {
    for (const watcher of this.progressWatchers) {
      if (watcher.state === 'synced' && !watcher.eventsSinceProgress) {
        const response = controlResponse({ watchId: watcher.id, revision: this.revisionValue });
        // A full queue means events are flowing; skipping the notification is harmless.
        watcher.owner.outbox.admit(watcher, {
          firstRevision: this.revisionValue,
          responses: [response],
          bytes: RESPONSE_OVERHEAD_BYTES,
        });
      }
      watcher.eventsSinceProgress = false;
    }
  }

  /**
   * The source's contents were replaced without onCommitted (a raft snapshot was
   * installed). Revisions up to the new current one never went through the live path, so
   * every synced watcher goes back to history from its position (etcd does the same on
   * restore); any it can no longer read there is canceled as compacted.
   */
  sourceRestored(): void {
    const restoredRevision = this.source.currentRevision();
    if (restoredRevision < this.revisionValue) {
      throw new Error(`watch hub: restored revision ${restoredRevision} is behind ${this.revisionValue}`);
    }
    const resumeAt = this.revisionValue + 1;
    this.revisionValue = restoredRevision;
    for (const watcher of this.synced.members()) {
      this.synced.delete(watcher);
      watcher.nextRevision = Math.max(watcher.nextRevision, resumeAt);
      this.moveTo(watcher, 'unsynced');
      this.catchUp.schedule(watcher);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    if (this.progressTimer !== null) clearInterval(this.progressTimer);
    for (const stream of [...this.streams]) stream.close();
    this.catchUp.close();
  }

  // ---- StreamHost ----

  attach(watcher: Watcher, startRevision: number): void {
    if (watcher.state !== 'canceled') throw new Error('watch hub: watcher attached twice');
    if (watcher.options.progressNotify) this.progressWatchers.add(watcher);
    if (startRevision === 0 || startRevision > this.revisionValue) {
      watcher.nextRevision = Math.max(startRevision, this.revisionValue + 1);
      watcher.state = 'synced';
      this.synced.add(watcher);
      return;
    }
    watcher.nextRevision = startRevision;
    watcher.state = 'unsynced';
    watcher.owner.notSynced++;
    this.catchUp.schedule(watcher);
  }

  detach(watcher: Watcher): void {
    if (watcher.state === 'canceled') return;
    this.synced.delete(watcher);
    this.catchUp.remove(watcher);
    this.victims.delete(watcher);
    this.progressWatchers.delete(watcher);
    this.moveTo(watcher, 'canceled');
    this.maybeSendRequestedProgress(watcher.owner);
  }

  requestProgress(owner: WatcherOwner): void {
    owner.progressRequested = true;
    this.maybeSendRequestedProgress(owner);
  }

  released(watcher: Watcher): void {
    if (watcher.state === 'blocked' && watcher.owner.outbox.hasResumeRoom(watcher)) {
      this.victims.delete(watcher);
      this.moveTo(watcher, 'unsynced');
      this.catchUp.schedule(watcher);
    }
  }

  streamClosed(stream: WatchStream): void {
    this.streams.delete(stream);
  }

  sinkFailed(error: unknown): void {
    this.options.onError(error);
  }

  // ---- live path ----

  private onCommitted(events: readonly Event[], revision: number): void {
    if (this.closed) return;
    if (!(revision > this.revisionValue)) {
      throw new Error(`watch hub: commit revision ${revision} not after ${this.revisionValue}`);
    }
    const matches = this.match(events, revision);
    this.revisionValue = revision;
    if (matches.size === 0) return;
    const lookups = new PrevKvLookups(this.source);
    for (const [watcher, matched] of matches) this.deliverLive(watcher, matched, revision, lookups);
  }

  private match(events: readonly Event[], revision: number): Map<Watcher, Event[]> {
    const matches = new Map<Watcher, Event[]>();
    if (this.synced.size === 0) return matches;
    // Events come in revision order, all after what was already seen, none after `revision`.
    let previous = this.revisionValue + 1;
    for (const event of events) {
      const eventRevision = event.kv.modRevision;
      if (eventRevision < previous || eventRevision > revision) {
        throw new Error(`watch hub: event revision ${eventRevision} out of order in batch at ${revision}`);
      }
      previous = eventRevision;
      this.synced.forEachMatch(keyText(event.kv.key), (watcher) => {
        if (eventRevision < watcher.nextRevision) return; // started later (future start revision)
        const list = matches.get(watcher);
        if (list === undefined) matches.set(watcher, [event]);
        else list.push(event);
      });
    }
    return matches;
  }

  private deliverLive(watcher: Watcher, matched: Event[], revision: number, lookups: PrevKvLookups): void {
    if (watcher.state !== 'synced') return; // canceled by a sink callback earlier in this batch
    const visible = eventsFor(watcher, matched);
    if (visible.length === 0) return;
    const outbox = watcher.owner.outbox;
    if (watcher.options.prevKv && visible.some(needsPrevKvLookup)) {
      // Keep this batch's place in the stream order; fill it when the lookups finish.
      let estimate = RESPONSE_OVERHEAD_BYTES;
      for (const event of visible) estimate += 2 * eventFieldBytes(event);
      const entry = outbox.admitDeferred(watcher, estimate);
      if (entry === null) return this.makeVictim(watcher, visible[0]!.kv.modRevision);
      watcher.eventsSinceProgress = true;
      void lookups
        .completeAll(visible)
        .then((completed) => outbox.fill(entry, unitsFor(watcher, completed, revision, this.options.responseBytesMax)))
        .catch((error: unknown) => this.options.onError(error));
      return;
    }
    for (const unit of unitsFor(watcher, visible, revision, this.options.responseBytesMax)) {
      if (!outbox.admit(watcher, unit)) return this.makeVictim(watcher, unit.firstRevision);
      watcher.eventsSinceProgress = true;
    }
  }

  /** Precondition: the watcher's queue is non-empty (admission always succeeds on an empty one). */
  private makeVictim(watcher: Watcher, firstUndelivered: number): void {
    if (watcher.queuedResponses === 0) throw new Error('watch hub: victim with an empty queue');
    this.synced.delete(watcher);
    watcher.nextRevision = firstUndelivered;
    this.victims.add(watcher);
    this.moveTo(watcher, 'blocked');
  }

  // ---- history path ----

  private async catchUpStep(candidates: Watcher[]): Promise<void> {
    try {
      await this.readHistory(candidates);
    } catch (error) {
      this.options.onError(error);
    }
  }

  private async readHistory(candidates: readonly Watcher[]): Promise<void> {
    const target = this.revisionValue;
    const group = candidates.filter((watcher) => this.startReading(watcher, target));
    if (group.length === 0) return;
    let chunk: HistoryChunk;
    try {
      chunk = await readHistoryChunk(this.source, group, target, this.options.historyChunkEvents);
    } catch (error) {
      const compacted = error instanceof CompactedError;
      for (const watcher of group.filter(isReading)) {
        if (compacted) {
          this.cancelCompacted(watcher, this.source.compactRevision());
        } else {
          this.moveTo(watcher, 'unsynced');
          this.catchUp.retryLater(watcher);
        }
      }
      if (!compacted) throw error;
      return;
    }
    // Members canceled while the read was in flight are skipped.
    for (const watcher of group.filter(isReading)) {
      this.deliverHistory(watcher, chunk.events.get(watcher)!, chunk.nextRevision);
    }
  }

  /** Settles what needs no read; returns true (state 'reading') if the watcher needs one. */
  private startReading(watcher: Watcher, target: number): boolean {
    if (watcher.state !== 'unsynced' || this.closed) return false;
    if (!watcher.owner.outbox.hasResumeRoom(watcher)) {
      // Still sending what it was given: wait for that to drain (released() resumes it).
      this.victims.add(watcher);
      this.moveTo(watcher, 'blocked');
      return false;
    }
    if (watcher.nextRevision > target) {
      this.promote(watcher);
      return false;
    }
    const compactRevision = this.source.compactRevision();
    if (watcher.nextRevision < compactRevision) {
      this.cancelCompacted(watcher, compactRevision);
      return false;
    }
    this.moveTo(watcher, 'reading');
    return true;
  }

  /** Precondition: `events` are the watcher's events in [nextRevision, chunkEnd), in order. */
  private deliverHistory(watcher: Watcher, events: readonly Event[], chunkEnd: number): void {
    if (watcher.nextRevision >= chunkEnd) {
      // The group's read stopped before this member's position: nothing for it yet.
      this.moveTo(watcher, 'unsynced');
      return this.catchUp.schedule(watcher);
    }
    const visible = eventsFor(watcher, events);
    for (const unit of unitsFor(watcher, visible, chunkEnd - 1, this.options.responseBytesMax)) {
      if (!watcher.owner.outbox.admit(watcher, unit)) {
        watcher.nextRevision = unit.firstRevision;
        this.victims.add(watcher);
        return this.moveTo(watcher, 'blocked');
      }
      watcher.eventsSinceProgress = true;
    }
    watcher.nextRevision = chunkEnd;
    if (watcher.nextRevision > this.revisionValue) return this.promote(watcher);
    this.moveTo(watcher, 'unsynced');
    this.catchUp.schedule(watcher);
  }

  /** The hand-over. Synchronous, so no batch can slip between the check and the join. */
  private promote(watcher: Watcher): void {
    if (!(watcher.nextRevision > this.revisionValue)) throw new Error('watch hub: promoting a watcher that is behind');
    this.moveTo(watcher, 'synced');
    this.synced.add(watcher);
    this.maybeSendRequestedProgress(watcher.owner);
  }

  private cancelCompacted(watcher: Watcher, compactRevision: number): void {
    const owner = watcher.owner;
    // The cancel goes out before a stream-wide progress response that detach may release.
    owner.outbox.pushControl(
      controlResponse({
        watchId: watcher.id,
        revision: this.revisionValue,
        canceled: true,
        compactRevision,
        cancelReason: new CompactedError().message,
      }),
    );
    owner.forget(watcher);
    this.detach(watcher);
  }

  // ---- bookkeeping ----

  /** Changes state, keeping the owner's count of not-synced watchers right. */
  private moveTo(watcher: Watcher, state: WatcherState): void {
    const counts = (s: WatcherState): number => (s === 'synced' || s === 'canceled' ? 0 : 1);
    watcher.owner.notSynced += counts(state) - counts(watcher.state);
    if (watcher.owner.notSynced < 0) throw new Error('watch hub: notSynced went negative');
    watcher.state = state;
  }

  private maybeSendRequestedProgress(owner: WatcherOwner): void {
    if (!owner.progressRequested || owner.notSynced !== 0) return;
    owner.progressRequested = false;
    owner.outbox.pushControl(controlResponse({ watchId: NO_WATCH_ID, revision: this.revisionValue }));
  }
}

/** A function, not an inline test: the state changes across the await that precedes it. */
function isReading(watcher: Watcher): boolean {
  return watcher.state === 'reading';
}
