import { CompactedError, UnavailableError, invariant } from '../errors';
import type { Storage } from '../storage';
import type { Entry, Snapshot } from '../types';
import { limitSize } from '../util';
import { Unstable } from './unstable';

const NO_LIMIT = Number.MAX_SAFE_INTEGER;

/**
 * The log as raft sees it: persisted entries (storage) followed by unstable ones.
 * Invariant: applied <= applying <= committed <= lastIndex(); firstIndex()-1 <= applied.
 * Invariant: a committed entry is never truncated or overwritten (checked, throws).
 */
export class RaftLog {
  readonly storage: Storage;
  readonly unstable: Unstable;
  /** Highest index known to be stored on a quorum. */
  committed: number;
  /** Highest index handed to the application for applying (in a Ready). */
  applying: number;
  /** Highest index the application has applied. */
  applied: number;
  /** Byte cap of committed entries returned by one nextCommittedEnts() call. */
  readonly maxApplyingEntsSize: number;

  constructor(storage: Storage, maxApplyingEntsSize: number = NO_LIMIT) {
    this.storage = storage;
    this.maxApplyingEntsSize = maxApplyingEntsSize;
    const firstIndex = storage.firstIndex();
    const lastIndex = storage.lastIndex();
    this.unstable = new Unstable(lastIndex + 1);
    // Everything up to the snapshot is committed and applied by definition.
    this.committed = firstIndex - 1;
    this.applying = firstIndex - 1;
    this.applied = firstIndex - 1;
  }

  toString(): string {
    return `committed=${this.committed}, applied=${this.applied}, applying=${this.applying}, unstable.offset=${this.unstable.offset}, unstable.entries=${this.unstable.entries.length}`;
  }

  /**
   * Follower side of AppendEntries (§5.3): if the entry at `index` has term `logTerm`, appends
   * `ents` (dropping any conflicting suffix) and advances commit. Returns the new last index of
   * the appended range, or undefined if the consistency check failed.
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: readonly Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNewIndex = index + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) {
      invariant(conflict > this.committed, () => `entry ${conflict} conflicts with committed entry [committed(${this.committed})]`);
      const start = conflict - (index + 1);
      this.append(start === 0 ? ents : ents.slice(start));
    }
    this.commitTo(Math.min(committed, lastNewIndex));
    return lastNewIndex;
  }

  /** Appends entries to the unstable log. Returns the new last index. */
  append(ents: readonly Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0]!.index - 1;
    invariant(after >= this.committed, () => `after(${after}) is out of range [committed(${this.committed})]`);
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * Index of the first entry of `ents` whose term differs from ours, or of the first entry we do
   * not have; 0 if all of ents is already present with matching terms.
   */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * Fast backtracking: the largest index <= `index` whose term is <= `term` (with that term).
   * Lets a leader skip a whole term of mismatching entries per round trip.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (; index > 0; index--) {
      const ourTerm = this.termOrUndefined(index);
      if (ourTerm === undefined) return { index, term: 0 };
      if (ourTerm <= term) return { index, term: ourTerm };
    }
    return { index: 0, term: 0 };
  }

  /** Unstable entries the application must persist. */
  unstableEntries(): Entry[] {
    return this.unstable.entries;
  }

  /** Whether committed entries are waiting to be handed to the application. */
  hasNextCommittedEnts(): boolean {
    if (this.unstable.snapshot !== undefined) return false; // apply the snapshot first
    return this.committed > this.applying;
  }

  /** Committed entries after `applying`, capped at maxApplyingEntsSize bytes. */
  nextCommittedEnts(): Entry[] {
    if (!this.hasNextCommittedEnts()) return [];
    const lo = Math.max(this.applying + 1, this.firstIndex());
    return this.slice(lo, this.committed + 1, this.maxApplyingEntsSize);
  }

  /** The pending snapshot: unstable one if any, else the storage's. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  commitTo(toCommit: number): void {
    if (this.committed >= toCommit) return; // never decrease commit
    invariant(toCommit <= this.lastIndex(),
      () => `tocommit(${toCommit}) is out of range [lastIndex(${this.lastIndex()})]. Was the raft log corrupted, truncated, or lost?`);
    this.committed = toCommit;
  }

  /** Marks entries up to i as handed out for applying. */
  acceptApplying(i: number): void {
    invariant(i <= this.committed, () => `applying(${i}) is out of range [committed(${this.committed})]`);
    if (i > this.applying) this.applying = i;
  }

  appliedTo(i: number): void {
    if (i === 0) return;
    invariant(this.committed >= i && i >= this.applied,
      () => `applied(${i}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`);
    this.applied = i;
    if (this.applying < i) this.applying = i;
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  lastTerm(): number {
    return this.termOrUndefined(this.lastIndex()) ?? 0;
  }

  /** Term of entry i; 0 for an index before the dummy entry or after the last one. Throws only on broken storage. */
  term(i: number): number {
    return this.termOrUndefined(i) ?? 0;
  }

  /** Term of entry i, or undefined if it is compacted or not yet in the log. */
  termOrUndefined(i: number): number | undefined {
    const fromUnstable = this.unstable.maybeTerm(i);
    if (fromUnstable !== undefined) return fromUnstable;
    // The valid range is [index of the dummy entry, last index].
    if (i < this.firstIndex() - 1 || i > this.lastIndex()) return undefined;
    try {
      return this.storage.term(i);
    } catch (err) {
      if (err instanceof CompactedError || err instanceof UnavailableError) return undefined;
      throw err;
    }
  }

  matchTerm(i: number, term: number): boolean {
    const t = this.termOrUndefined(i);
    return t !== undefined && t === term;
  }

  /** Entries from i to the end, capped at maxSize bytes. Throws CompactedError if i is compacted. */
  entries(i: number, maxSize: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxSize);
  }

  allEntries(): Entry[] {
    return this.entries(this.firstIndex(), NO_LIMIT);
  }

  /** Election restriction (§5.4.1): is a log ending at (lastIndex, term) at least as up to date as ours? */
  isUpToDate(lastIndex: number, term: number): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && lastIndex >= this.lastIndex());
  }

  /** Commits maxIndex if it is from `term` (§5.4.2: only current-term entries commit by counting). */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.term(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  /** Replaces the log with a snapshot (follower install). */
  restore(snap: Snapshot): void {
    this.committed = snap.metadata.index;
    this.unstable.restore(snap);
  }

  /**
   * Entries in [lo, hi) from storage and unstable, capped at maxSize bytes (at least one).
   * Throws CompactedError if lo is compacted.
   */
  slice(lo: number, hi: number, maxSize: number): Entry[] {
    this.checkOutOfBounds(lo, hi);
    if (lo === hi) return [];
    const offset = this.unstable.offset;
    let ents: Entry[] = [];
    if (lo < offset) {
      ents = this.storage.entries(lo, Math.min(hi, offset), maxSize);
      // Storage returned fewer than asked: the size cap bit; stop here.
      if (ents.length < Math.min(hi, offset) - lo) return ents;
    }
    if (hi > offset) {
      const unstable = this.unstable.slice(Math.max(lo, offset), hi);
      ents = ents.length > 0 ? ents.concat(unstable) : unstable;
    }
    return limitSize(ents, maxSize);
  }

  private checkOutOfBounds(lo: number, hi: number): void {
    invariant(lo <= hi, () => `invalid slice ${lo} > ${hi}`);
    const fi = this.firstIndex();
    if (lo < fi) throw new CompactedError();
    const length = this.lastIndex() + 1 - fi;
    invariant(hi <= fi + length, () => `slice[${lo},${hi}) out of bound [${fi},${this.lastIndex()}]`);
  }
}
