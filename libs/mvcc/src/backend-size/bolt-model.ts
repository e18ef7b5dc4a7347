// A size-only model of one bbolt database as etcd 3.4 runs it on Linux: 4 KiB pages, the
// array freelist, NoFreelistSync (no freelist page is written per commit; a reopened file
// rebuilds its freelist by scanning), top-level buckets only, and a new read-write
// transaction begun right after every commit (etcd's batch tx), which releases the pages
// the commit freed.
//
//   size()      = high-water page id × page size      (bbolt tx.Size(), etcd dbSize)
//   sizeInUse() = size() − free pages × page size       (etcd dbSizeInUse), where the free
//                 count is the one bbolt records when the last read-write tx closed
//
// Usage: put/delete into buckets, then commit(); figures change only at commits.
//
// Invariants: every page id below `highWater` is a meta page (0, 1), owned by exactly one
// written node, free, or pending; free + pending + owned + 2 === highWater (checkPages()).
import assert from 'node:assert/strict';
import { BUCKET_HEADER, BucketTree, PAGE_SIZE, type PageSpace, SEQUENTIAL_FILL_PERCENT } from './bucket-tree';
import { FreePages } from './freelist';

export interface SizeFigures {
  size: number;
  inUse: number;
}

/** etcd 3.4's defrag copies in transactions of this many puts (backend.go defragLimit). */
export const DEFRAG_PUTS_PER_TX = 10_000;

export class BoltSizeModel implements PageSpace {
  private readonly buckets = new Map<string, BucketTree>();
  /** The root bucket: one entry per bucket (bucket name -> header or inline bucket). */
  private readonly rootBucket = new BucketTree('');
  private readonly freePages = new FreePages();
  private highWater: number;
  /** Page of the freelist written by the last synced commit (only a new file has one). */
  private freelistPage: number | undefined;
  /** Free pages when the last read-write transaction closed (bbolt Stats().FreePageN). */
  private freeAtClose = 0;
  private tx = 1;
  private writes = 0;

  /** A new file as bbolt's init() writes it: meta 0/1, freelist page 2, empty root leaf 3. */
  constructor() {
    this.rootBucket.root.pgid = 3;
    this.rootBucket.root.pages = 1;
    this.freelistPage = 2;
    this.highWater = 4;
  }

  // Figures

  size(): number {
    return this.highWater * PAGE_SIZE;
  }

  sizeInUse(): number {
    return (this.highWater - this.freeAtClose) * PAGE_SIZE;
  }

  figures(): SizeFigures {
    return { size: this.size(), inUse: this.sizeInUse() };
  }

  /** High-water mark in pages (what the store persists across restarts). */
  pageCount(): number {
    return this.highWater;
  }

  /** Writes in the open transaction (etcd's batch tx "pending"). */
  pendingWrites(): number {
    return this.writes;
  }

  bucketNames(): string[] {
    return [...this.buckets.keys()].sort();
  }

  elementCount(): number {
    let count = 0;
    for (const bucket of this.buckets.values()) count += bucket.size();
    return count;
  }

  // Writes (into the open transaction)

  createBucket(name: string): void {
    if (this.buckets.has(name)) return;
    this.buckets.set(name, new BucketTree(name));
    // An empty inline bucket: header + empty page header.
    this.rootBucket.put(this.tx, name, BUCKET_HEADER + 16);
    this.writes++;
  }

  /** Puts a key with a value of `valueBytes`; `sequential` is etcd's UnsafeSeqPut (fill 0.9). */
  put(bucket: string, key: string, valueBytes: number, sequential = false): void {
    this.bucket(bucket).put(this.tx, key, valueBytes, sequential ? SEQUENTIAL_FILL_PERCENT : undefined);
    this.writes++;
  }

  /** Deletes `key` if present (returns whether it was); counts as a write either way, as in etcd. */
  delete(bucket: string, key: string): boolean {
    this.writes++;
    return this.bucket(bucket).delete(this.tx, key);
  }

  /** Deletes the first of `keys` that is present, as one write. */
  deleteFirstPresent(bucket: string, keys: readonly string[]): boolean {
    this.writes++;
    const tree = this.bucket(bucket);
    return keys.some((key) => tree.delete(this.tx, key));
  }

  /** Commits the open transaction (when it wrote anything) and begins the next one. */
  commit(): boolean {
    if (this.writes === 0) return false; // etcd's backend skips commits with nothing pending
    const tx = this.tx;
    for (const bucket of this.buckets.values()) bucket.rebalance(tx, this);
    // bbolt spills child buckets in map order (random); the model uses name order. Only
    // transactions that change two or more non-inline buckets can tell the difference.
    for (const name of this.bucketNames()) this.spillBucket(tx, this.buckets.get(name)!);
    this.rootBucket.spill(tx, this);
    if (this.freelistPage !== undefined) {
      this.free(this.freelistPage, 1);
      this.freelistPage = undefined; // NoFreelistSync: no new freelist page
    }
    this.freeAtClose = this.freePages.freeCount();
    this.freePages.releasePending();
    this.tx++;
    this.writes = 0;
    return true;
  }

  private spillBucket(tx: number, bucket: BucketTree): void {
    if (!bucket.isDirty(tx)) return;
    let value = BUCKET_HEADER;
    if (bucket.inlineable()) {
      bucket.freeAllPages(this);
      value += bucket.root.size();
    } else {
      bucket.spill(tx, this);
    }
    this.rootBucket.put(tx, bucket.name, value);
  }

  // PageSpace

  allocate(count: number): number {
    const reused = this.freePages.allocate(count);
    if (reused !== 0) return reused;
    const first = this.highWater;
    this.highWater += count;
    return first;
  }

  free(pgid: number, count: number): void {
    this.freePages.release(pgid, count);
  }

  // Whole-file operations

  /**
   * Copies every bucket, in name and key order, into a fresh model the way etcd's defrag
   * fills its new file (see BulkLoad), then "reopens" the copy.
   */
  copyCompacted(): BoltSizeModel {
    assert.equal(this.writes, 0, 'commit before copying');
    const load = new BulkLoad();
    for (const name of this.bucketNames()) {
      load.bucket(name);
      this.buckets.get(name)!.forEach((key, valueBytes) => load.put(key, valueBytes));
    }
    return load.finish();
  }

  /**
   * Closes and reopens the file: with no synced freelist bbolt frees every page below the
   * high-water mark that no bucket refers to. `highWater` may raise the mark (a file that
   * grew further before a restart keeps its length; the extra pages are free).
   */
  reopen(highWater = this.highWater): void {
    assert.equal(this.writes, 0, 'commit before reopening');
    this.highWater = Math.max(this.highWater, highWater);
    const owned = new Uint8Array(this.highWater);
    owned[0] = owned[1] = 1;
    const mark = (pgid: number, pages: number): void => {
      for (let p = pgid; p < pgid + pages; p++) {
        assert.equal(owned[p], 0, `page ${p} owned twice`);
        owned[p] = 1;
      }
    };
    this.rootBucket.forEachWrittenNode((node) => mark(node.pgid, node.pages));
    for (const bucket of this.buckets.values()) bucket.forEachWrittenNode((node) => mark(node.pgid, node.pages));
    const runs: Array<[number, number]> = [];
    for (let p = 2; p < this.highWater; p++) {
      if (owned[p] === 1) continue;
      const last = runs[runs.length - 1];
      if (last !== undefined && last[0] + last[1] === p) last[1]++;
      else runs.push([p, 1]);
    }
    this.freePages.reset(runs);
    this.freelistPage = undefined;
    this.freeAtClose = this.freePages.freeCount();
  }

  /** Asserts the page accounting invariant (tests; walks every node). */
  checkPages(): void {
    let owned = 0;
    this.rootBucket.forEachWrittenNode((node) => (owned += node.pages));
    for (const bucket of this.buckets.values()) bucket.forEachWrittenNode((node) => (owned += node.pages));
    const freelist = this.freelistPage === undefined ? 0 : 1;
    const accounted = 2 + owned + freelist + this.freePages.freeCount() + this.freePages.pendingCount();
    assert.equal(accounted, this.highWater, 'pages lost or double counted');
  }

  private bucket(name: string): BucketTree {
    const bucket = this.buckets.get(name);
    assert.ok(bucket !== undefined, `no bucket ${name}`);
    return bucket;
  }
}

/**
 * Fills a fresh model as etcd's defrag fills its new file: buckets in name order, each
 * bucket's keys in order, sequential puts (FillPercent 0.9), a commit after every
 * DEFRAG_PUTS_PER_TX puts, then close and reopen (the freelist is rebuilt by scanning).
 * Also how a restarted store rebuilds its model from the data it holds.
 */
export class BulkLoad {
  private readonly model = new BoltSizeModel();
  private current: string | undefined;
  private previous = '';
  private count = 0;

  /** Starts the next bucket; names must come in ascending order. */
  bucket(name: string): void {
    assert.ok(this.current === undefined || name > this.previous, 'buckets must come in name order');
    this.model.createBucket(name);
    this.current = name;
    this.previous = name;
  }

  /** Adds the next key of the current bucket; keys must come in ascending order. */
  put(key: string, valueBytes: number): void {
    assert.ok(this.current !== undefined, 'put before bucket');
    this.count++;
    if (this.count > DEFRAG_PUTS_PER_TX) {
      this.model.commit();
      this.count = 0;
    }
    this.model.put(this.current, key, valueBytes, true);
  }

  /** Commits, reopens (raising the high-water mark to `highWater` if given) and returns the model. */
  finish(highWater?: number): BoltSizeModel {
    this.model.commit();
    this.model.reopen(highWater);
    return this.model;
  }
}
