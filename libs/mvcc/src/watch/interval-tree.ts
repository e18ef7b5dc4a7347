// An interval tree over latin1 key strings: a treap ordered by (start, end), each node
// augmented with the largest `end` in its subtree. A stabbing query ("which intervals
// contain this key?") then costs O(log n + k) instead of O(n): a subtree whose largest
// end is <= the key holds no match, and nodes right of a start > key cannot match.
//
// Intervals are half-open [start, end); end === null is +infinity. Each distinct
// interval is stored once with one value (the watch index keeps a Set of watchers
// there). Priorities come from a fixed-seed generator, so shapes are reproducible.

export type IntervalEnd = string | null;

interface Node<V> {
  start: string;
  end: IntervalEnd;
  value: V;
  priority: number;
  /** Largest end in this subtree (null = unbounded). Invariant: recomputed on every change below. */
  maxEnd: IntervalEnd;
  left: Node<V> | null;
  right: Node<V> | null;
}

function endLess(a: IntervalEnd, b: IntervalEnd): boolean {
  if (a === null) return false;
  if (b === null) return true;
  return a < b;
}

function compareIntervals(aStart: string, aEnd: IntervalEnd, bStart: string, bEnd: IntervalEnd): number {
  if (aStart !== bStart) return aStart < bStart ? -1 : 1;
  if (aEnd === bEnd) return 0;
  return endLess(aEnd, bEnd) ? -1 : 1;
}

function refresh<V>(node: Node<V>): void {
  let maxEnd = node.end;
  if (node.left !== null && endLess(maxEnd, node.left.maxEnd)) maxEnd = node.left.maxEnd;
  if (node.right !== null && endLess(maxEnd, node.right.maxEnd)) maxEnd = node.right.maxEnd;
  node.maxEnd = maxEnd;
}

/** Joins two treaps where every interval of `a` orders before every interval of `b`. */
function merge<V>(a: Node<V> | null, b: Node<V> | null): Node<V> | null {
  if (a === null) return b;
  if (b === null) return a;
  if (a.priority >= b.priority) {
    a.right = merge(a.right, b);
    refresh(a);
    return a;
  }
  b.left = merge(a, b.left);
  refresh(b);
  return b;
}

/** Splits into (intervals ordering before (start, end), the rest). */
function split<V>(node: Node<V> | null, start: string, end: IntervalEnd): [Node<V> | null, Node<V> | null] {
  if (node === null) return [null, null];
  if (compareIntervals(node.start, node.end, start, end) < 0) {
    const [lower, upper] = split(node.right, start, end);
    node.right = lower;
    refresh(node);
    return [node, upper];
  }
  const [lower, upper] = split(node.left, start, end);
  node.left = upper;
  refresh(node);
  return [lower, node];
}

export class IntervalTree<V> {
  private root: Node<V> | null = null;
  private count = 0;
  private seed = 0x9e3779b9;

  get size(): number {
    return this.count;
  }

  get(start: string, end: IntervalEnd): V | undefined {
    let node = this.root;
    while (node !== null) {
      const order = compareIntervals(start, end, node.start, node.end);
      if (order === 0) return node.value;
      node = order < 0 ? node.left : node.right;
    }
    return undefined;
  }

  /** Precondition: the interval is not present (use get first). */
  insert(start: string, end: IntervalEnd, value: V): void {
    if (end !== null && !(start < end)) throw new Error(`interval tree: empty interval`);
    if (this.get(start, end) !== undefined) throw new Error('interval tree: interval already present');
    const node: Node<V> = { start, end, value, priority: this.nextPriority(), maxEnd: end, left: null, right: null };
    const [lower, upper] = split(this.root, start, end);
    this.root = merge(merge(lower, node), upper);
    this.count++;
  }

  delete(start: string, end: IntervalEnd): boolean {
    const removed = { found: false };
    this.root = this.deleteFrom(this.root, start, end, removed);
    if (removed.found) this.count--;
    return removed.found;
  }

  /** Calls visit(value) for every interval containing `point`. */
  stab(point: string, visit: (value: V) => void): void {
    stabFrom(this.root, point, visit);
  }

  private deleteFrom(node: Node<V> | null, start: string, end: IntervalEnd, removed: { found: boolean }): Node<V> | null {
    if (node === null) return null;
    const order = compareIntervals(start, end, node.start, node.end);
    if (order === 0) {
      removed.found = true;
      return merge(node.left, node.right);
    }
    if (order < 0) node.left = this.deleteFrom(node.left, start, end, removed);
    else node.right = this.deleteFrom(node.right, start, end, removed);
    refresh(node);
    return node;
  }

  /** xorshift32: cheap, deterministic priorities. */
  private nextPriority(): number {
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed;
  }
}

function stabFrom<V>(node: Node<V> | null, point: string, visit: (value: V) => void): void {
  // Iterative on the right spine, recursive on the left: depth stays O(log n) expected.
  let current = node;
  while (current !== null) {
    // Nothing in this subtree ends after the point: no interval here contains it.
    if (current.maxEnd !== null && current.maxEnd <= point) return;
    stabFrom(current.left, point, visit);
    // Every interval right of here starts at or after current.start.
    if (current.start > point) return;
    if (current.end === null || point < current.end) visit(current.value);
    current = current.right;
  }
}
