// One node of a bucket's B+tree in the size model: what a bbolt page holds, minus the data.
// A leaf keeps its keys and each value's byte length; a branch keeps its children's first
// keys (bbolt's separators) and the children themselves. Keys are byte strings held as
// latin1 JS strings: one char per byte, so `<` on them is bbolt's bytes.Compare.
//
// Invariants: leaf => values.length === keys.length and kids is empty; branch =>
// kids.length === keys.length and values is empty; `bytes` is the sum of the element
// sizes (ELEMENT_HEADER + key length + value length) over the node's elements.
import assert from 'node:assert/strict';

/** bbolt's page header (id, flags, count, overflow). */
export const PAGE_HEADER = 16;
/** bbolt's leaf and branch element headers are both 16 bytes. */
export const ELEMENT_HEADER = 16;
/** bbolt never splits a node with this many elements or fewer per side ×2 (minKeysPerPage). */
export const MIN_KEYS_PER_PAGE = 2;

/**
 * The array a node does not use (a leaf's kids, a branch's values): one shared, frozen empty
 * array instead of one per node (nodes are the model's main memory cost); writing to it throws.
 */
const UNUSED: never[] = Object.freeze([]) as unknown as never[];

export class TreeNode {
  keys: string[] = [];
  /** Leaf only: value length per key. */
  values: number[];
  /** Branch only: child per key. */
  kids: TreeNode[];
  parent: TreeNode | undefined = undefined;
  /** Sum of element sizes (see invariants). */
  bytes = 0;
  /** First page of the node's current write; 0 when it has none (new, inline or freed). */
  pgid = 0;
  /** Pages of that write (1 + bbolt's overflow). */
  pages = 0;

  // Per-transaction state, valid while `tx` is the open transaction's serial (bbolt keeps
  // it in the node objects it materializes for one transaction).
  tx = 0;
  /** bbolt's node.key: the first key when materialized or last spilled. */
  key: string | undefined = undefined;
  unbalanced = false;
  spilled = false;
  /** Merged away or collapsed by rebalancing in this transaction. */
  removed = false;

  constructor(public leaf: boolean) {
    this.values = leaf ? [] : UNUSED;
    this.kids = leaf ? UNUSED : [];
  }

  /** Serialized size in bytes (bbolt's node.size()). */
  size(): number {
    return PAGE_HEADER + this.bytes;
  }

  count(): number {
    return this.keys.length;
  }

  /** Size of element `i`. */
  elementSize(i: number): number {
    return ELEMENT_HEADER + this.keys[i]!.length + (this.leaf ? this.values[i]! : 0);
  }

  /** Index of the first key >= `key` (keys.length when none). */
  lowerBound(key: string): number {
    const keys = this.keys;
    let low = 0;
    let high = keys.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (keys[mid]! < key) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** The child a search for `key` descends into (bbolt's cursor.searchNode). */
  childFor(key: string): TreeNode {
    assert.ok(!this.leaf && this.kids.length > 0, 'descending through an empty or leaf node');
    let index = this.lowerBound(key);
    if (!(index < this.keys.length && this.keys[index] === key) && index > 0) index--;
    return this.kids[Math.min(index, this.kids.length - 1)]!;
  }

  /** Inserts or replaces a leaf element. */
  putLeaf(key: string, valueBytes: number): void {
    const at = this.lowerBound(key);
    if (at < this.keys.length && this.keys[at] === key) {
      this.bytes += valueBytes - this.values[at]!;
      this.values[at] = valueBytes;
      return;
    }
    this.keys.splice(at, 0, key);
    this.values.splice(at, 0, valueBytes);
    this.bytes += ELEMENT_HEADER + key.length + valueBytes;
  }

  /**
   * bbolt's node.put on a branch: the entry whose key is `oldKey` now points to `child`
   * under `newKey`; without such an entry a new one is inserted in key order.
   */
  putBranch(oldKey: string, newKey: string, child: TreeNode): void {
    const at = this.lowerBound(oldKey);
    if (at < this.keys.length && this.keys[at] === oldKey) {
      this.bytes += newKey.length - oldKey.length;
      this.keys[at] = newKey;
      this.kids[at] = child;
      return;
    }
    this.keys.splice(at, 0, newKey);
    this.kids.splice(at, 0, child);
    this.bytes += ELEMENT_HEADER + newKey.length;
  }

  /** Removes element `index`. */
  removeAt(index: number): void {
    this.bytes -= this.elementSize(index);
    this.keys.splice(index, 1);
    if (this.leaf) this.values.splice(index, 1);
    else this.kids.splice(index, 1);
  }

  /**
   * Cuts the node at ascending indexes `cuts`: it keeps [0, cuts[0]), and each further piece
   * becomes a new sibling with the same parent. Returns [this, ...siblings] in key order.
   * (Slices, not splices: a spliced array keeps its old capacity.)
   */
  cutAt(cuts: readonly number[]): TreeNode[] {
    const pieces: TreeNode[] = [this];
    for (let p = 0; p < cuts.length; p++) {
      const from = cuts[p]!;
      const to = p + 1 < cuts.length ? cuts[p + 1]! : this.keys.length;
      assert.ok(from < to, 'cut points must ascend');
      const next = new TreeNode(this.leaf);
      next.parent = this.parent;
      next.keys = this.keys.slice(from, to);
      if (this.leaf) next.values = this.values.slice(from, to);
      else {
        next.kids = this.kids.slice(from, to);
        for (const kid of next.kids) kid.parent = next;
      }
      next.recount();
      pieces.push(next);
    }
    const end = cuts[0] ?? this.keys.length;
    this.keys = this.keys.slice(0, end);
    if (this.leaf) this.values = this.values.slice(0, end);
    else this.kids = this.kids.slice(0, end);
    this.recount();
    return pieces;
  }

  /** Appends all of `other`'s elements (other is being merged away). */
  absorb(other: TreeNode): void {
    assert.equal(other.leaf, this.leaf, 'merging a leaf with a branch');
    for (let i = 0; i < other.keys.length; i++) this.keys.push(other.keys[i]!);
    if (this.leaf) for (const value of other.values) this.values.push(value);
    else
      for (const kid of other.kids) {
        kid.parent = this;
        this.kids.push(kid);
      }
    this.bytes += other.bytes;
  }

  /** Takes over `other`'s contents (a root collapsing onto its only child). */
  adopt(other: TreeNode): void {
    this.leaf = other.leaf;
    this.keys = other.keys;
    this.values = other.values;
    this.kids = other.kids;
    this.bytes = other.bytes;
    for (const kid of this.kids) kid.parent = this;
  }

  recount(): void {
    let bytes = 0;
    for (let i = 0; i < this.keys.length; i++) bytes += this.elementSize(i);
    this.bytes = bytes;
  }
}
