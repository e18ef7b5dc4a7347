// One watcher's state. The hub moves it between states; the outbox tracks how much of
// its output is waiting for the consumer.
//
// States and moves (every other move is a bug and asserts):
//
//   created ──▶ synced      start revision 0 or in the future: gets live events
//   created ──▶ unsynced    start revision in the past: must replay history first
//   unsynced ─▶ reading     the catch-up pump is reading a history chunk for it
//   reading ──▶ unsynced    chunk delivered, history left to read
//   reading ──▶ synced      chunk delivered up to the hub's revision (the hand-over)
//   reading ──▶ blocked     its queue had no room for the chunk
//   synced ───▶ blocked     its queue had no room for a live batch (a "victim")
//   blocked ──▶ unsynced    its queue drained below half: resume from history
//   any ──────▶ canceled

import type { KeyRange } from '../types';
import type { WatchedKeys } from './key-range';
import type { Outbox } from './outbox';

/** What the hub needs from the stream that owns a watcher. */
export interface WatcherOwner {
  readonly outbox: Outbox;
  /** How many of this stream's watchers are not synced (maintained by the hub). */
  notSynced: number;
  /** A stream-wide progress request waits for every watcher to be synced. */
  progressRequested: boolean;
  /** The hub dropped the watcher on its own (compaction): forget its ID. */
  forget(watcher: Watcher): void;
}

export type WatcherState = 'synced' | 'unsynced' | 'reading' | 'blocked' | 'canceled';

export interface WatcherOptions {
  /** Attach the previous version of the key to each event. */
  prevKv: boolean;
  /** Split responses larger than the hub's responseBytesMax into fragments. */
  fragment: boolean;
  /** Receive periodic progress notifications while idle. */
  progressNotify: boolean;
  /** Drop PUT events (etcd filter NOPUT). */
  noPut: boolean;
  /** Drop DELETE events (etcd filter NODELETE). */
  noDelete: boolean;
}

export class Watcher {
  /** Set by the hub when it attaches the watcher ('canceled' until then: not yet live). */
  state: WatcherState = 'canceled';
  /**
   * The first revision not yet handed to the outbox. Invariant: every matching event
   * with a smaller revision has been queued exactly once. While synced the watcher may
   * have been given later events (nextRevision is then only a lower bound, refreshed when
   * it leaves the synced group); while unsynced, reading or blocked it is exact.
   */
  nextRevision = 0;
  /** Responses of this watcher in the outbox not yet taken by the sink. */
  queuedResponses = 0;
  /** Their encoded size. */
  queuedBytes = 0;
  /** An event response was queued since the last periodic progress pass. */
  eventsSinceProgress = false;

  constructor(
    readonly id: bigint,
    readonly owner: WatcherOwner,
    readonly keys: WatchedKeys,
    readonly range: KeyRange,
    readonly options: WatcherOptions,
  ) {}
}
