import {
  CompactedError,
  SnapOutOfDateError,
  UnavailableError,
  invariant,
} from './errors';
import { limitSize } from './util';
import {
  type ConfState,
  type Entry,
  type HardState,
  type Snapshot,
  EntryType,
  NONE,
  emptyConfState,
  emptySnapshot,
} from './types';

export interface InitialState {
  hardState: HardState;
  confState: ConfState;
}

/**
 * The persisted log as raft sees it. Raft only reads; the application writes (after handling a
 * Ready). Implementations throw CompactedError / UnavailableError /
 * SnapshotTemporarilyUnavailableError as documented; any other error is fatal to raft.
 */
export interface Storage {
  /**
   * Persisted hard state, and the configuration as of Config.applied (the latest snapshot's plus
   * every conf change applied since): raft does not re-apply entries up to `applied` on restart.
   */
  initialState(): InitialState;
  /**
   * Entries in [lo, hi), capped at maxBytes (but at least one entry when lo < hi).
   * Throws CompactedError if lo <= the snapshot index, UnavailableError if hi > lastIndex()+1.
   */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** Term of entry i, for i in [firstIndex()-1, lastIndex()]. Throws CompactedError / UnavailableError outside. */
  term(i: number): number;
  /** Index of the last entry (or of the snapshot when the log is empty). */
  lastIndex(): number;
  /** Index of the first entry still available (snapshot index + 1). */
  firstIndex(): number;
  /** Latest snapshot; may throw SnapshotTemporarilyUnavailableError. */
  snapshot(): Snapshot;
}

/**
 * In-memory Storage for tests and for a member that keeps its log in memory behind a WAL.
 * Invariant: ents[0] is a dummy entry carrying the snapshot's index and term, so
 * ents[i] has log index i + ents[0].index.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = { term: 0, vote: NONE, commit: 0 };
  private snap: Snapshot = emptySnapshot();
  private ents: Entry[] = [{ term: 0, index: 0, type: EntryType.Normal, data: new Uint8Array(0) }];
  /** Configuration applied after the snapshot (see setConfState); undefined = the snapshot's. */
  private latestConfState: ConfState | undefined;

  /**
   * A storage holding no entries whose initial configuration is `confState` (as if a snapshot at
   * index 0 carried it). Lets tests and a fresh cluster start without bootstrap entries.
   */
  static withConfState(confState: ConfState): MemoryStorage {
    const storage = new MemoryStorage();
    storage.snap = { data: new Uint8Array(0), metadata: { index: 0, term: 0, confState } };
    return storage;
  }

  initialState(): InitialState {
    return { hardState: { ...this.hardState }, confState: this.latestConfState ?? this.snap.metadata.confState };
  }

  /**
   * Records the configuration after applying conf changes past the snapshot, so a node restarted
   * with Config.applied beyond those entries starts with the right configuration.
   */
  setConfState(confState: ConfState): void {
    this.latestConfState = confState;
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.offset();
    if (lo <= offset) throw new CompactedError();
    if (hi > this.lastIndex() + 1) throw new UnavailableError();
    if (this.ents.length === 1) throw new UnavailableError(); // only the dummy entry
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxBytes);
  }

  term(i: number): number {
    const offset = this.offset();
    if (i < offset) throw new CompactedError();
    const entry = this.ents[i - offset];
    if (entry === undefined) throw new UnavailableError();
    return entry.term;
  }

  lastIndex(): number {
    return this.offset() + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.offset() + 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the whole contents with the snapshot. Throws SnapOutOfDateError if it is older than the current one. */
  applySnapshot(snap: Snapshot): void {
    if (this.snap.metadata.index >= snap.metadata.index) throw new SnapOutOfDateError();
    this.snap = snap;
    this.latestConfState = undefined;
    this.ents = [{ term: snap.metadata.term, index: snap.metadata.index, type: EntryType.Normal, data: new Uint8Array(0) }];
  }

  /**
   * Records a snapshot at index i (<= lastIndex) of the application's state `data`, so it can be
   * sent to lagging followers. Call compact() afterwards to release the entries it covers.
   */
  createSnapshot(i: number, confState: ConfState | undefined, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw new SnapOutOfDateError();
    invariant(i <= this.lastIndex(), () => `snapshot ${i} is out of bound lastindex(${this.lastIndex()})`);
    const entry = this.ents[i - this.offset()]!;
    this.snap = {
      data,
      metadata: { index: i, term: entry.term, confState: confState ?? this.snap.metadata.confState ?? emptyConfState() },
    };
    return this.snap;
  }

  /** Discards entries up to and including compactIndex. Throws CompactedError if already compacted. */
  compact(compactIndex: number): void {
    const offset = this.offset();
    if (compactIndex <= offset) throw new CompactedError();
    invariant(compactIndex <= this.lastIndex(), () => `compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`);
    const i = compactIndex - offset;
    const head = this.ents[i]!;
    const rest = this.ents.slice(i + 1);
    rest.unshift({ term: head.term, index: head.index, type: EntryType.Normal, data: new Uint8Array(0) });
    this.ents = rest;
  }

  /**
   * Appends entries, truncating any persisted suffix they overlap. Entries already compacted are
   * skipped. Throws if the entries would leave a gap.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[entries.length - 1]!.index;
    if (last < first) return; // all compacted
    let toAppend = entries;
    if (first > entries[0]!.index) toAppend = entries.slice(first - entries[0]!.index);
    const offset = toAppend[0]!.index - this.offset();
    invariant(offset <= this.ents.length, () => `missing log entry [last: ${this.lastIndex()}, append at: ${toAppend[0]!.index}]`);
    if (offset < this.ents.length) this.ents.length = offset;
    for (const e of toAppend) this.ents.push(e);
  }

  private offset(): number {
    return this.ents[0]!.index;
  }
}
