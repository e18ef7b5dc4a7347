// One bbolt bucket's B+tree in the size model, following bbolt's node.go rules for what a
// transaction rewrites (the nodes it materializes: every node on the path to a written key,
// plus siblings pulled in by rebalancing), how nodes split when spilled (splitTwo/splitIndex
// with the bucket's fill percent), how they merge on rebalance after deletes, and in which
// order pages are freed and allocated (children before parents, in key order), since the
// allocation order decides which free runs are reused and how far the file grows.
//
// The whole tree stays in memory (bbolt reads untouched nodes from pages instead); each node
// holds only keys and value lengths.
import assert from 'node:assert/strict';
import { MIN_KEYS_PER_PAGE, PAGE_HEADER, TreeNode } from './tree-node';

export const PAGE_SIZE = 4096;
/** bbolt's DefaultFillPercent; etcd raises it to 0.9 for sequential puts (batch_tx.go). */
export const DEFAULT_FILL_PERCENT = 0.5;
export const SEQUENTIAL_FILL_PERCENT = 0.9;
/** A bucket stays inline in its parent while it is one leaf of at most a quarter page. */
const MAX_INLINE_BUCKET_BYTES = PAGE_SIZE / 4;
/** bbolt's bucket header (root page id + sequence), stored as the parent's value. */
export const BUCKET_HEADER = 16;

export interface PageSpace {
  /** First page of `count` newly allocated contiguous pages. */
  allocate(count: number): number;
  /** Frees `count` pages from `pgid` in the open transaction. */
  free(pgid: number, count: number): void;
}

export class BucketTree {
  root = new TreeNode(true);
  /** Fill percent for this transaction (bbolt resets it whenever a tx opens the bucket). */
  fillPercent = DEFAULT_FILL_PERCENT;
  /** Serial of the transaction that last opened the bucket. */
  private tx = 0;
  /** Nodes materialized in that transaction, in order (bbolt's bucket.nodes). */
  private materialized: TreeNode[] = [];
  private elements = 0;

  constructor(readonly name: string) {}

  /** Number of key/value pairs. */
  size(): number {
    return this.elements;
  }

  /** True when the bucket has no pages of its own (its root is written into the parent). */
  isInline(): boolean {
    return this.root.pgid === 0;
  }

  /** True when the open transaction `tx` changed the bucket. */
  isDirty(tx: number): boolean {
    return this.tx === tx && this.root.tx === tx;
  }

  put(tx: number, key: string, valueBytes: number, fillPercent?: number): void {
    assert.ok(key.length > 0, 'bbolt keys are never empty');
    this.open(tx);
    if (fillPercent !== undefined) this.fillPercent = fillPercent;
    const leaf = this.materializePath(tx, key);
    const before = leaf.count();
    leaf.putLeaf(key, valueBytes);
    this.elements += leaf.count() - before;
  }

  /** Deletes `key` if present; returns whether it was. */
  delete(tx: number, key: string): boolean {
    let node = this.root;
    while (!node.leaf) node = node.childFor(key);
    const at = node.lowerBound(key);
    if (at >= node.count() || node.keys[at] !== key) return false; // bbolt touches nothing
    this.open(tx);
    const leaf = this.materializePath(tx, key);
    assert.equal(leaf, node, 'delete found the key in another leaf');
    leaf.removeAt(at);
    leaf.unbalanced = true;
    this.elements--;
    return true;
  }

  /** Visits every key/value length in key order. */
  forEach(visit: (key: string, valueBytes: number) => void): void {
    const walk = (node: TreeNode): void => {
      if (node.leaf) node.keys.forEach((key, i) => visit(key, node.values[i]!));
      else for (const kid of node.kids) walk(kid);
    };
    walk(this.root);
  }

  /** Visits every node that owns pages. */
  forEachWrittenNode(visit: (node: TreeNode) => void): void {
    const walk = (node: TreeNode): void => {
      if (node.pgid !== 0) visit(node);
      for (const kid of node.kids) walk(kid);
    };
    walk(this.root);
  }

  // Commit, step 1 (bbolt's rebalance): merge nodes that deletes left small.

  rebalance(tx: number, space: PageSpace): void {
    if (this.tx !== tx) return;
    // bbolt walks its node map (random order); the model uses materialization order.
    for (let i = 0; i < this.materialized.length; i++) {
      const node = this.materialized[i]!;
      if (!node.removed) this.rebalanceNode(tx, node, space);
    }
  }

  private rebalanceNode(tx: number, node: TreeNode, space: PageSpace): void {
    if (!node.unbalanced) return;
    node.unbalanced = false;
    const minKeys = node.leaf ? 1 : 2;
    if (node.size() > PAGE_SIZE / 4 && node.count() > minKeys) return;
    const parent = node.parent;
    if (parent === undefined) {
      if (!node.leaf && node.count() === 1) this.collapseRoot(tx, node, space);
      return;
    }
    if (node.count() === 0) {
      parent.removeAt(parent.kids.indexOf(node));
      this.drop(node, space);
    } else {
      assert.ok(parent.count() > 1, 'a parent must have at least two children here');
      const index = parent.kids.indexOf(node);
      if (index === 0) {
        const next = parent.kids[1]!;
        this.touch(tx, next);
        node.absorb(next);
        parent.removeAt(1);
        this.drop(next, space);
      } else {
        const previous = parent.kids[index - 1]!;
        this.touch(tx, previous);
        previous.absorb(node);
        parent.removeAt(index);
        this.drop(node, space);
      }
    }
    parent.unbalanced = true;
    this.rebalanceNode(tx, parent, space);
  }

  private collapseRoot(tx: number, root: TreeNode, space: PageSpace): void {
    const child = root.kids[0]!;
    this.touch(tx, child);
    root.adopt(child);
    child.parent = undefined;
    this.drop(child, space);
  }

  private drop(node: TreeNode, space: PageSpace): void {
    node.removed = true;
    node.keys = [];
    if (node.leaf) node.values = [];
    else node.kids = [];
    node.bytes = 0;
    this.freeNode(node, space);
  }

  // Commit, step 2 (bbolt's bucket spill).

  /** True when bbolt would store the bucket inline in its parent (bucket.inlineable). */
  inlineable(): boolean {
    return this.root.leaf && this.root.size() <= MAX_INLINE_BUCKET_BYTES;
  }

  /** Frees every page of the bucket (it is about to become inline). */
  freeAllPages(space: PageSpace): void {
    this.forEachWrittenNode((node) => this.freeNode(node, space));
  }

  /** Writes the bucket's changed nodes to newly allocated pages. */
  spill(tx: number, space: PageSpace): void {
    if (!this.isDirty(tx)) return;
    this.spillNode(tx, this.root, space);
    while (this.root.parent !== undefined) this.root = this.root.parent;
  }

  private spillNode(tx: number, node: TreeNode, space: PageSpace): void {
    if (node.spilled) return;
    // Children first, in key order. A child that splits inserts its new siblings right after
    // itself; they are already spilled, so the loop passes over them.
    for (let i = 0; i < node.kids.length; i++) {
      const kid = node.kids[i]!;
      if (kid.tx === tx && !kid.spilled) this.spillNode(tx, kid, space);
    }
    for (const piece of this.split(tx, node)) {
      this.freeNode(piece, space);
      const pages = Math.ceil(piece.size() / PAGE_SIZE);
      piece.pgid = space.allocate(pages);
      piece.pages = pages;
      piece.spilled = true;
      if (piece.parent !== undefined) {
        const first = piece.keys[0]!;
        piece.parent.putBranch(piece.key ?? first, first, piece);
        piece.key = first;
      }
    }
    // A split root got a new parent: write it too.
    if (node.parent !== undefined && node.parent.pgid === 0) this.spillNode(tx, node.parent, space);
  }

  /**
   * bbolt's node.split: the node and the siblings cut off it, in key order. bbolt cuts one
   * piece at a time (splitTwo on the rest); the cut points are found the same way, then the
   * node is cut once, so a node that took thousands of puts splits in linear time.
   */
  private split(tx: number, node: TreeNode): TreeNode[] {
    const cuts = this.cutPoints(node);
    if (cuts.length === 0) return [node];
    if (node.parent === undefined) {
      const parent = new TreeNode(false);
      this.touch(tx, parent);
      node.parent = parent;
    }
    const pieces = node.cutAt(cuts);
    for (let i = 1; i < pieces.length; i++) this.touch(tx, pieces[i]!);
    return pieces;
  }

  /** Start indexes of the pieces after the first, as repeated splitTwo would choose them. */
  private cutPoints(node: TreeNode): number[] {
    const threshold = Math.floor(PAGE_SIZE * Math.min(Math.max(this.fillPercent, 0.1), 1.0));
    const count = node.count();
    const cuts: number[] = [];
    let start = 0;
    let restBytes = node.bytes; // element bytes in [start, count)
    // splitTwo leaves a node alone when it has few elements or fits a page.
    while (count - start > MIN_KEYS_PER_PAGE * 2 && PAGE_HEADER + restBytes >= PAGE_SIZE) {
      const cut = start + this.splitIndex(node, start, threshold);
      for (let i = start; i < cut; i++) restBytes -= node.elementSize(i);
      cuts.push(cut);
      start = cut;
    }
    return cuts;
  }

  /**
   * bbolt's splitIndex on the elements from `start`: fill the first node up to `threshold`
   * bytes but leave at least MIN_KEYS_PER_PAGE elements for the second; when nothing crosses
   * the threshold it stops at the last index it looked at (count - MIN_KEYS_PER_PAGE - 1),
   * as bbolt does. Returns the first piece's element count.
   */
  private splitIndex(node: TreeNode, start: number, threshold: number): number {
    let size = PAGE_HEADER;
    let index = 0;
    for (let i = 0; i < node.count() - start - MIN_KEYS_PER_PAGE; i++) {
      index = i;
      const element = node.elementSize(start + i);
      if (i >= MIN_KEYS_PER_PAGE && size + element > threshold) break;
      size += element;
    }
    return index;
  }

  // Materialization

  private open(tx: number): void {
    if (this.tx === tx) return;
    this.tx = tx;
    this.fillPercent = DEFAULT_FILL_PERCENT;
    this.materialized = [];
  }

  /** Marks every node from the root to the leaf holding `key` as changed in `tx`. */
  private materializePath(tx: number, key: string): TreeNode {
    let node = this.root;
    this.touch(tx, node);
    while (!node.leaf) {
      node = node.childFor(key);
      this.touch(tx, node);
    }
    return node;
  }

  private touch(tx: number, node: TreeNode): void {
    if (node.tx === tx) return;
    node.tx = tx;
    node.key = node.keys[0];
    node.unbalanced = false;
    node.spilled = false;
    node.removed = false;
    this.materialized.push(node);
  }

  private freeNode(node: TreeNode, space: PageSpace): void {
    if (node.pgid === 0) return;
    space.free(node.pgid, node.pages);
    node.pgid = 0;
    node.pages = 0;
  }
}
