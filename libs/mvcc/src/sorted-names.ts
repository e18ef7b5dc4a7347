// An ordered map from strings to values, for the key index's walks in key order.
//
// Layout: a list of chunks, each a sorted run of at most CHUNK_MAX names with their values in
// a parallel array; chunks are in order and `lasts[i]` is chunk i's greatest name. Deletes do
// not merge chunks (compaction is rare); an emptied chunk is dropped. A lookup is
// a binary search over `lasts` and one within the chunk; an insert or delete is then a splice
// of one chunk (a memmove of a few hundred slots). Measured against sorted-btree keyed by the
// same strings (bench/key-index.ts, 100,000 keys): inserting new keys is several times faster,
// and walks are no slower.
//
// Invariants: every chunk is non-empty and holds at most chunkMax names; names strictly
// increase within a chunk and from one chunk to the next; lasts[i] is the last name of chunk i;
// count is the number of names.
import assert from 'node:assert/strict';

/** Chunks split in two when they would grow past this (by default). */
const DEFAULT_CHUNK_MAX = 512;

interface Chunk<V> {
  names: string[];
  values: V[];
}

export class SortedNames<V> {
  private readonly chunks: Chunk<V>[] = [];
  private readonly lasts: string[] = [];
  private count = 0;

  /** @param chunkMax names per chunk before it splits (small values are for tests) */
  constructor(private readonly chunkMax = DEFAULT_CHUNK_MAX) {
    assert.ok(chunkMax >= 2, 'sorted names: chunks must hold at least two names');
  }

  get size(): number {
    return this.count;
  }

  /** Adds `name` or replaces its value. */
  set(name: string, value: V): void {
    if (this.chunks.length === 0) {
      this.chunks.push({ names: [name], values: [value] });
      this.lasts.push(name);
      this.count = 1;
      return;
    }
    // Past every name: it goes at the end of the last chunk.
    const c = Math.min(this.chunkFor(name), this.chunks.length - 1);
    const chunk = this.chunks[c]!;
    const at = lowerBound(chunk.names, name);
    if (chunk.names[at] === name) {
      chunk.values[at] = value;
      return;
    }
    chunk.names.splice(at, 0, name);
    chunk.values.splice(at, 0, value);
    this.count++;
    if (at === chunk.names.length - 1) this.lasts[c] = name;
    if (chunk.names.length > this.chunkMax) this.split(c);
  }

  /** Removes `name`; returns whether it was there. */
  delete(name: string): boolean {
    const c = this.chunkFor(name);
    const chunk = this.chunks[c];
    if (chunk === undefined) return false;
    const at = lowerBound(chunk.names, name);
    if (chunk.names[at] !== name) return false;
    chunk.names.splice(at, 1);
    chunk.values.splice(at, 1);
    this.count--;
    if (chunk.names.length === 0) {
      this.chunks.splice(c, 1);
      this.lasts.splice(c, 1);
    } else if (at === chunk.names.length) {
      this.lasts[c] = chunk.names[at - 1]!;
    }
    return true;
  }

  /**
   * Calls `visit` in ascending order for every name >= `start` (all names when start is ''),
   * until it returns false. The map must not be changed during the walk.
   */
  forEachFrom(start: string, visit: (name: string, value: V) => boolean | void): void {
    let c = this.chunkFor(start);
    if (c >= this.chunks.length) return;
    let at = lowerBound(this.chunks[c]!.names, start);
    for (; c < this.chunks.length; c++, at = 0) {
      const { names, values } = this.chunks[c]!;
      for (; at < names.length; at++) if (visit(names[at]!, values[at]!) === false) return;
    }
  }

  /** Checks every invariant above (O(n): for tests). */
  assertInvariants(): void {
    assert.equal(this.lasts.length, this.chunks.length, 'sorted names: one last name per chunk');
    let previous: string | undefined;
    let count = 0;
    for (const [c, { names, values }] of this.chunks.entries()) {
      assert.ok(names.length > 0 && names.length <= this.chunkMax, 'sorted names: chunk size out of bounds');
      assert.equal(values.length, names.length, 'sorted names: names and values differ in length');
      assert.equal(this.lasts[c], names.at(-1), 'sorted names: stale last name');
      for (const name of names) {
        assert.ok(previous === undefined || previous < name, 'sorted names: names not strictly increasing');
        previous = name;
      }
      count += names.length;
    }
    assert.equal(count, this.count, 'sorted names: wrong count');
  }

  /** Index of the first chunk whose last name is >= name; chunks.length if none. */
  private chunkFor(name: string): number {
    return lowerBound(this.lasts, name);
  }

  private split(c: number): void {
    const chunk = this.chunks[c]!;
    const half = chunk.names.length >> 1;
    const right: Chunk<V> = { names: chunk.names.splice(half), values: chunk.values.splice(half) };
    assert.ok(chunk.names.length > 0 && right.names.length > 0, 'sorted names: split produced an empty chunk');
    this.chunks.splice(c + 1, 0, right);
    this.lasts.splice(c, 1, chunk.names.at(-1)!, right.names.at(-1)!);
  }
}

/** The first index in sorted `names` whose name is >= `name` (names.length if none). */
function lowerBound(names: readonly string[], name: string): number {
  let low = 0;
  let high = names.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (names[mid]! < name) low = mid + 1;
    else high = mid;
  }
  return low;
}
