// The in-memory key index: user key -> the revisions at which it was written, grouped
// into generations. Values are not here; they live in RocksDB under the revision key.
//
// A generation is one life of a key: from the put that created it to the delete that
// ended it (the tombstone). A key deleted and created again has several generations.
//
// Worked example (revisions written main.sub):
//
//   put foo @1.0, put foo @2.0, delete foo @3.0, put foo @5.0, put foo @6.1
//
//   generations of "foo":
//     g0 { create 1, firstVersion 1, revs [1.0, 2.0, 3.0], closed }   (3.0 is the tombstone)
//     g1 { create 5, firstVersion 1, revs [5.0, 6.1],      open }
//   (each generation also keeps the lease of each revision, omitted here)
//
//   get(foo, atRev 2) -> 2.0, version 2, create 1
//   get(foo, atRev 4) -> nothing: g0 is closed at 3 <= 4, g1 starts at 5 > 4
//   get(foo, atRev 6) -> 6.1, version 2, create 5
//
// Compaction at atRev keeps, per key, only the newest revision <= atRev (the version a
// read at atRev still needs), and drops it too if it is a tombstone:
//
//   compact(2): g0 becomes { create 1, firstVersion 2, revs [2.0, 3.0] }; 1.0 is dropped,
//               keep set = {2.0}
//   compact(4): g0 is wholly <= 4 and ends in a tombstone: dropped; keep set = {}
//   compact(5): g1 becomes { create 5, firstVersion 1, revs [5.0, 6.1] }; keep set = {5.0}
//   a key whose every generation is dropped leaves the index.
//
// The keep set tells the physical compaction which revisions <= atRev to leave in
// RocksDB: every other history record <= atRev is deleted.
//
// Invariants: generations are in revision order and non-empty (revs holds one main/sub
// pair per entry of leases); only the last may be open; a closed generation has at least one
// put before its tombstone; revisions across all generations of a key strictly increase.
import assert from 'node:assert/strict';
import { type Revision, revisionId, revisionOf } from './revision';
import { SortedNames } from './sorted-names';

/** What the index knows about one version of a key (everything but value and lease). */
export interface IndexedVersion {
  key: Buffer;
  /** The revision that wrote this version: its mod revision is `revision.main`. */
  revision: Revision;
  createRevision: number;
  version: number;
  lease: bigint;
}

/** A key interval: `end` undefined means the single key `start`; null means unbounded. */
export interface KeyInterval {
  start: Buffer;
  end: Buffer | null | undefined;
}

export interface KeyIndex {
  /** The version of `key` visible at atRev, or undefined if absent or deleted then. */
  get(key: Buffer, atRev: number): IndexedVersion | undefined;
  /** Visits in ascending key order the visible version of each key in `interval`; stop by returning false. */
  visit(interval: KeyInterval, atRev: number, visitor: (version: IndexedVersion) => boolean | void): void;
  /** Records a put; returns the version it creates. rev must exceed every revision of key. */
  put(key: Buffer, rev: Revision, lease: bigint): IndexedVersion;
  /** Records a delete of a live key. */
  tombstone(key: Buffer, rev: Revision): void;
  /** Rebuild: records a put read back from history, with its stored create revision and version. */
  restorePut(key: Buffer, rev: Revision, record: { createRevision: number; version: number; lease: bigint }): void;
  /** Rebuild: records a tombstone read back from history. */
  restoreTombstone(key: Buffer, rev: Revision): void;
  /** Drops history below atRev; returns ids (revisionId) of the revisions <= atRev that survive. */
  compact(atRev: number): Set<string>;
  /** The set compact(atRev) would return, without changing anything. */
  keep(atRev: number): Set<string>;
  /** Number of keys with any history in the index. */
  keyCount(): number;
}

interface Generation {
  createRevision: number;
  /** Version of the first revision; revision i has version firstVersion + i. */
  firstVersion: number;
  /**
   * The revisions as flat main/sub pairs, [main0, sub0, main1, sub1, ...]: small integers in
   * one array, 16 bytes per revision and no object of its own (an array of Revision objects
   * cost 48 bytes and one heap object per revision, which every full collection walks: 600,000
   * of them after 600,000 puts). Read through revisionCount / mainAt / revisionAt.
   */
  revs: number[];
  /** Lease of each revision (0n for the tombstone); kept here so compares, ignore_lease and
   * lease detach need no RocksDB read. */
  leases: bigint[];
  /** True when the last revision is a tombstone. */
  closed: boolean;
}

/**
 * A key's generations. The key is held once, as its latin1 name (no Buffer is kept: a small
 * Buffer copy lives in one of Node's shared 8 KiB pool slabs and would pin the whole slab for
 * the key's lifetime — 310 MB over 100,000 keys in `check datascale`). Lookups hand out a fresh
 * Buffer per returned version; callers may keep it.
 */
interface KeyHistory {
  name: string;
  generations: Generation[];
}

/** What compaction at some revision does to one key. */
interface CompactionPlan {
  /** Leading generations dropped entirely. */
  dropGenerations: number;
  /** Revisions dropped from the front of the first surviving generation. */
  dropRevisions: number;
  kept: Revision | undefined;
}

export function createKeyIndex(): KeyIndex {
  return new TreeKeyIndex();
}

/**
 * The index's name for a key: its bytes as a latin1 string, one character per byte.
 * Measured (bench/key-index.ts): hashing and comparing these in JavaScript is several times
 * cheaper than `Buffer.compare`, which is a native call per comparison; and because every
 * character is below 256, JavaScript's string order (UTF-16 code units) is the keys' byte order.
 */
function nameOf(key: Buffer): string {
  return key.toString('latin1');
}

/**
 * Two views of the same histories: a hash map by key name for point reads and writes (the
 * hot path of every put), and an ordered map by key name for walks in key order (ranges,
 * compaction).
 * Invariant: both hold exactly the same names, mapped to the same KeyHistory objects; a key is
 * added to both at its first write and removed from both when compaction empties it.
 */
class TreeKeyIndex implements KeyIndex {
  private readonly byName = new Map<string, KeyHistory>();
  private readonly ordered = new SortedNames<KeyHistory>();

  get(key: Buffer, atRev: number): IndexedVersion | undefined {
    const history = this.byName.get(nameOf(key));
    return history === undefined ? undefined : versionAt(history, atRev);
  }

  visit(interval: KeyInterval, atRev: number, visitor: (version: IndexedVersion) => boolean | void): void {
    if (interval.end === undefined) {
      const found = this.get(interval.start, atRev);
      if (found !== undefined) visitor(found);
      return;
    }
    const end = interval.end === null ? null : nameOf(interval.end);
    this.ordered.forEachFrom(nameOf(interval.start), (name, history) => {
      if (end !== null && name >= end) return false;
      const found = versionAt(history, atRev);
      return found === undefined || visitor(found) !== false;
    });
  }

  put(key: Buffer, rev: Revision, lease: bigint): IndexedVersion {
    const history = this.historyOf(key);
    const last = history.generations.at(-1);
    if (last !== undefined) assertAfter(last, rev);
    if (last === undefined || last.closed) {
      history.generations = appended(history.generations, newGeneration(rev.main, 1, rev, lease));
      return { key: Buffer.from(history.name, 'latin1'), revision: rev, createRevision: rev.main, version: 1, lease };
    }
    appendRevision(last, rev, lease);
    const version = last.firstVersion + revisionCount(last) - 1;
    return { key: Buffer.from(history.name, 'latin1'), revision: rev, createRevision: last.createRevision, version, lease };
  }

  tombstone(key: Buffer, rev: Revision): void {
    const last = this.byName.get(nameOf(key))?.generations.at(-1);
    assert.ok(last !== undefined && !last.closed, 'tombstone of a key that is not live');
    assertAfter(last, rev);
    appendRevision(last, rev, 0n);
    last.closed = true;
  }

  restorePut(key: Buffer, rev: Revision, record: { createRevision: number; version: number; lease: bigint }): void {
    const history = this.historyOf(key);
    const last = history.generations.at(-1);
    const { createRevision, version, lease } = record;
    if (last !== undefined) assertAfter(last, rev);
    if (last === undefined || last.closed) {
      history.generations = appended(history.generations, newGeneration(createRevision, version, rev, lease));
      return;
    }
    assert.equal(version, last.firstVersion + revisionCount(last), 'history versions not consecutive');
    assert.equal(createRevision, last.createRevision, 'history create revision changed within a generation');
    appendRevision(last, rev, lease);
  }

  restoreTombstone(key: Buffer, rev: Revision): void {
    this.tombstone(key, rev);
  }

  compact(atRev: number): Set<string> {
    const keep = new Set<string>();
    const emptied: string[] = [];
    this.ordered.forEachFrom('', (name, history) => {
      const plan = planCompaction(history, atRev);
      if (plan.kept !== undefined) keep.add(revisionId(plan.kept));
      applyPlan(history, plan);
      if (history.generations.length === 0) emptied.push(name);
    });
    for (const name of emptied) {
      this.ordered.delete(name);
      this.byName.delete(name);
    }
    assert.equal(this.byName.size, this.ordered.size, 'key index views disagree on the key count');
    return keep;
  }

  keep(atRev: number): Set<string> {
    const keep = new Set<string>();
    for (const history of this.byName.values()) {
      const kept = planCompaction(history, atRev).kept;
      if (kept !== undefined) keep.add(revisionId(kept));
    }
    return keep;
  }

  keyCount(): number {
    return this.byName.size;
  }

  private historyOf(key: Buffer): KeyHistory {
    const name = nameOf(key);
    let history = this.byName.get(name);
    if (history === undefined) {
      history = { name, generations: [] };
      this.byName.set(name, history);
      this.ordered.set(name, history);
    }
    return history;
  }
}

/**
 * Arrays of a key's history up to this length are replaced by an exact-size copy on append;
 * longer ones grow in place. V8's push grows a backing store to 1.5 n + 16 slots, so the
 * common short histories (a put then its tombstone, a put and a few updates) would carry
 * 17 slots each: 450 B per key of empty capacity, 45 MB over the 100,000 keys of
 * `etcdctl check datascale`. Past this length the copy would make hot keys quadratic.
 */
const EXACT_SIZE_LENGTH_MAX = 16;

function appended<T>(items: T[], ...added: T[]): T[] {
  if (items.length >= EXACT_SIZE_LENGTH_MAX) {
    items.push(...added);
    return items;
  }
  return items.concat(added); // concat allocates exactly; slice + push would grow to 19 slots
}

function newGeneration(createRevision: number, firstVersion: number, rev: Revision, lease: bigint): Generation {
  return { createRevision, firstVersion, revs: [rev.main, rev.sub], leases: [lease], closed: false };
}

function revisionCount(generation: Generation): number {
  return generation.revs.length >> 1;
}

function mainAt(generation: Generation, i: number): number {
  return generation.revs[2 * i]!;
}

/** Revision i as an object (a fresh one: the index keeps only the numbers). */
function revisionAt(generation: Generation, i: number): Revision {
  return revisionOf(generation.revs[2 * i]!, generation.revs[2 * i + 1]!);
}

function appendRevision(generation: Generation, rev: Revision, lease: bigint): void {
  generation.revs = appended(generation.revs, rev.main, rev.sub);
  generation.leases = appended(generation.leases, lease);
}

function assertAfter(generation: Generation, rev: Revision): void {
  const revs = generation.revs;
  const lastMain = revs[revs.length - 2]!;
  const lastSub = revs[revs.length - 1]!;
  const after = rev.main > lastMain || (rev.main === lastMain && rev.sub > lastSub);
  assert.ok(after, `index revision ${rev.main}.${rev.sub} not after ${lastMain}.${lastSub}`);
}

/** Index of the last revision of the generation with main <= atRev, or -1. */
function lastAtOrBelow(generation: Generation, atRev: number): number {
  let low = 0;
  let high = revisionCount(generation) - 1;
  let found = -1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (mainAt(generation, mid) <= atRev) {
      found = mid;
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  return found;
}

function versionAt(history: KeyHistory, atRev: number): IndexedVersion | undefined {
  for (let g = history.generations.length - 1; g >= 0; g--) {
    const generation = history.generations[g]!;
    const at = lastAtOrBelow(generation, atRev);
    if (at === -1) continue;
    if (generation.closed && at === revisionCount(generation) - 1) return undefined;
    return {
      key: Buffer.from(history.name, 'latin1'),
      revision: revisionAt(generation, at),
      createRevision: generation.createRevision,
      version: generation.firstVersion + at,
      lease: generation.leases[at]!,
    };
  }
  return undefined;
}

function planCompaction(history: KeyHistory, atRev: number): CompactionPlan {
  const generations = history.generations;
  let dropGenerations = 0;
  while (dropGenerations < generations.length) {
    const generation = generations[dropGenerations]!;
    if (!generation.closed || mainAt(generation, revisionCount(generation) - 1) > atRev) break;
    dropGenerations++;
  }
  const survivor = generations[dropGenerations];
  if (survivor === undefined) return { dropGenerations, dropRevisions: 0, kept: undefined };
  const at = lastAtOrBelow(survivor, atRev);
  if (at === -1) return { dropGenerations, dropRevisions: 0, kept: undefined };
  return { dropGenerations, dropRevisions: at, kept: revisionAt(survivor, at) };
}

function applyPlan(history: KeyHistory, plan: CompactionPlan): void {
  if (plan.dropGenerations > 0) history.generations.splice(0, plan.dropGenerations);
  const first = history.generations[0];
  if (first !== undefined && plan.dropRevisions > 0) {
    first.revs.splice(0, 2 * plan.dropRevisions);
    first.leases.splice(0, plan.dropRevisions);
    first.firstVersion += plan.dropRevisions;
  }
}
