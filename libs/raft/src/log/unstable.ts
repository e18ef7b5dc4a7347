import { invariant } from '../errors';
import type { Entry, Snapshot } from '../types';

/**
 * Entries (and possibly a snapshot) not yet persisted by the application.
 * Invariant: entries[i] has log index offset + i. If a snapshot is pending, offset = snapshot.index + 1.
 */
export class Unstable {
  snapshot: Snapshot | undefined;
  entries: Entry[] = [];
  /** Index of entries[0] (or where the next entry would go). */
  offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }

  /** Index of the first entry if only the snapshot is known, else undefined. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index;
  }

  /** Term of entry i if this unstable part knows it, else undefined. */
  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      const snap = this.snapshot;
      return snap !== undefined && snap.metadata.index === i ? snap.metadata.term : undefined;
    }
    const entry = this.entries[i - this.offset];
    return entry?.term;
  }

  /** Entries up to index i (with term t) are now persisted: drop them. */
  stableTo(i: number, t: number): void {
    const term = this.maybeTerm(i);
    // Only drop if the entry was not replaced meanwhile (term matches) and is not from a snapshot.
    if (term === undefined || term !== t || i < this.offset) return;
    const keep = i + 1 - this.offset;
    this.entries = keep >= this.entries.length ? [] : this.entries.slice(keep);
    this.offset = i + 1;
  }

  stableSnapTo(i: number): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === i) this.snapshot = undefined;
  }

  restore(snap: Snapshot): void {
    this.offset = snap.metadata.index + 1;
    this.entries = [];
    this.snapshot = snap;
  }

  /** Appends entries, truncating any unstable suffix they replace. */
  truncateAndAppend(ents: readonly Entry[]): void {
    const first = ents[0]!.index;
    const tail = this.offset + this.entries.length;
    if (first === tail) {
      for (const e of ents) this.entries.push(e);
    } else if (first <= this.offset) {
      // Replaces everything unstable (and possibly some persisted entries: the application truncates).
      this.offset = first;
      this.entries = ents.slice();
    } else {
      invariant(first < tail, () => `unstable append leaves a gap: ${first} after ${tail - 1}`);
      this.entries.length = first - this.offset;
      for (const e of ents) this.entries.push(e);
    }
  }

  /** Entries in [lo, hi); both must lie within the unstable range. */
  slice(lo: number, hi: number): Entry[] {
    invariant(lo <= hi && lo >= this.offset && hi <= this.offset + this.entries.length,
      () => `unstable.slice[${lo},${hi}) out of bound [${this.offset},${this.offset + this.entries.length}]`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
