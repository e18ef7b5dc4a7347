// Builds one bucket's B+tree bottom-up from entries given in key order, writing each page as
// soon as it is full. Memory is bounded by one open node per tree level (the leaf level plus
// the branch levels above it), not by the number of entries.
//
// Level 0 collects leaf entries; a full leaf is written and its first key and page id go up
// to level 1; a full level-1 node is written as a branch page and goes up to level 2; and so
// on. finish() closes the levels from the bottom: the first level that ends with a single
// entry and never wrote a page before is the root.
//
// Nodes are filled up to one page and hold at least two entries; a node that needs more than
// a page runs on into the following pages (bbolt's overflow pages).
import assert from 'node:assert/strict';
import { MAX_ELEMENTS_PER_PAGE, PAGE_HEADER_BYTES, compareKeys } from './layout';
import { type BranchEntry, type LeafEntry, branchElementBytes, encodeBranch, encodeLeaf, leafElementBytes } from './nodes';
import type { PageSink } from './page-sink';

const MIN_ENTRIES_PER_NODE = 2;

interface Level<T> {
  entries: T[];
  bytes: number;
  /** Pages written from this level so far. */
  written: number;
}

function emptyLevel<T>(): Level<T> {
  return { entries: [], bytes: PAGE_HEADER_BYTES, written: 0 };
}

export interface TreeStats {
  root: number;
  leafPages: number;
  branchPages: number;
  entries: number;
}

export class TreeBuilder {
  private readonly leaves: Level<LeafEntry> = emptyLevel();
  private readonly branches: Array<Level<BranchEntry>> = [];
  private lastKey: Buffer | undefined;
  private count = 0;
  private finished = false;

  constructor(private readonly sink: PageSink) {}

  /** Adds the next entry; its key must be greater than every key added before. */
  async add(entry: LeafEntry): Promise<void> {
    assert.ok(!this.finished, 'tree already finished');
    assert.ok(entry.key.length > 0, 'bbolt keys are never empty');
    assert.ok(this.lastKey === undefined || compareKeys(this.lastKey, entry.key) < 0, 'keys must be added in strictly increasing order');
    this.lastKey = entry.key;
    this.count++;
    const bytes = leafElementBytes(entry);
    if (this.wouldOverflow(this.leaves, bytes)) await this.writeLeaf();
    this.leaves.entries.push(entry);
    this.leaves.bytes += bytes;
  }

  /** Writes every open node; returns the root page. */
  async finish(): Promise<TreeStats> {
    assert.ok(!this.finished, 'tree already finished');
    this.finished = true;
    // An empty tree is one empty leaf page; a tree that fits one leaf has that leaf as root.
    if (this.leaves.entries.length > 0 || this.leaves.written === 0) await this.writeLeaf();
    let root: number | undefined;
    for (let depth = 0; root === undefined; depth++) {
      const level = this.branches[depth];
      assert.ok(level !== undefined, 'a written page always reaches the next level');
      if (level.written === 0 && level.entries.length === 1) root = level.entries[0]!.child;
      else await this.writeBranch(depth);
    }
    const branchPages = this.branches.reduce((sum, level) => sum + level.written, 0);
    return { root, leafPages: this.leaves.written, branchPages, entries: this.count };
  }

  /**
   * A node is closed when the next entry would not fit its page, but only once it holds two
   * entries (bbolt's minimum keys per page): a node of one entry per page would never let
   * the levels above it shrink to a single root. So a node of big entries overflows instead.
   */
  private wouldOverflow(level: Level<unknown>, bytes: number): boolean {
    if (level.entries.length < MIN_ENTRIES_PER_NODE) return false;
    return level.bytes + bytes > this.sink.pageSize || level.entries.length >= MAX_ELEMENTS_PER_PAGE;
  }

  private async writeLeaf(): Promise<void> {
    const entries = this.leaves.entries;
    const id = await this.sink.append(encodeLeaf(this.sink.nextId, entries, this.sink.pageSize));
    this.leaves.written++;
    this.leaves.entries = [];
    this.leaves.bytes = PAGE_HEADER_BYTES;
    // An empty leaf exists only as the root of an empty tree; its separator key is never read.
    await this.promote(0, { key: entries[0]?.key ?? Buffer.alloc(0), child: id });
  }

  private async writeBranch(depth: number): Promise<void> {
    const level = this.branches[depth]!;
    const entries = level.entries;
    const id = await this.sink.append(encodeBranch(this.sink.nextId, entries, this.sink.pageSize));
    level.written++;
    level.entries = [];
    level.bytes = PAGE_HEADER_BYTES;
    await this.promote(depth + 1, { key: entries[0]!.key, child: id });
  }

  /** Hands a written node's (first key, page) to the branch level `depth`. */
  private async promote(depth: number, entry: BranchEntry): Promise<void> {
    const level = (this.branches[depth] ??= emptyLevel());
    const bytes = branchElementBytes(entry);
    if (this.wouldOverflow(level, bytes)) await this.writeBranch(depth);
    level.entries.push(entry);
    level.bytes += bytes;
  }
}
