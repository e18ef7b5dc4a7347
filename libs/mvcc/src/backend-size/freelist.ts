// bbolt's "array" freelist, reduced to page accounting (etcd 3.4 uses this type).
//
// Free pages are kept as sorted, non-adjacent runs [start, start + length). Allocation is
// first fit in page-id order and takes a run's lowest pages, which is what scanning bbolt's
// sorted id array for the first n contiguous ids does. Pages freed by a transaction are
// pending (not reusable) until released: bbolt releases them when the next read-write
// transaction begins and no older read transaction is open — in etcd's backend that is
// right after the commit, so the model releases everything at that point.
//
// Invariants: runs are sorted by start, have length >= 1 and never touch or overlap
// (adjacent runs are merged); no page is both free and pending.
import assert from 'node:assert/strict';

export class FreePages {
  private starts: number[] = [];
  private lengths: number[] = [];
  private free = 0;
  /** Pages freed by the open transaction, as [start, length] pairs. */
  private pending: number[] = [];
  private pendingPages = 0;

  /** Pages available for allocation (bbolt's FreePageN). */
  freeCount(): number {
    return this.free;
  }

  pendingCount(): number {
    return this.pendingPages;
  }

  /** The first page of `count` contiguous free pages (now allocated), or 0 when none fit. */
  allocate(count: number): number {
    assert.ok(Number.isInteger(count) && count > 0, 'allocate needs a positive page count');
    for (let i = 0; i < this.starts.length; i++) {
      const length = this.lengths[i]!;
      if (length < count) continue;
      const start = this.starts[i]!;
      if (length === count) {
        this.starts.splice(i, 1);
        this.lengths.splice(i, 1);
      } else {
        this.starts[i] = start + count;
        this.lengths[i] = length - count;
      }
      this.free -= count;
      return start;
    }
    return 0;
  }

  /** Marks `count` pages from `start` as freed by the open transaction. */
  release(start: number, count: number): void {
    assert.ok(start > 1 && count > 0, `cannot free page ${start} (+${count})`);
    this.pending.push(start, count);
    this.pendingPages += count;
  }

  /** Makes every pending page allocatable (the next read-write transaction began). */
  releasePending(): void {
    for (let i = 0; i < this.pending.length; i += 2) this.addRun(this.pending[i]!, this.pending[i + 1]!);
    this.pending = [];
    this.pendingPages = 0;
  }

  /** Replaces the whole list (a database reopened without a synced freelist). */
  reset(runs: ReadonlyArray<readonly [number, number]>): void {
    this.starts = [];
    this.lengths = [];
    this.free = 0;
    this.pending = [];
    this.pendingPages = 0;
    for (const [start, length] of runs) this.addRun(start, length);
  }

  /** Free runs in page order, for tests and diagnostics. */
  runs(): Array<[number, number]> {
    return this.starts.map((start, i) => [start, this.lengths[i]!]);
  }

  private addRun(start: number, length: number): void {
    const at = this.insertionPoint(start);
    const before = at - 1;
    const prevEnd = before >= 0 ? this.starts[before]! + this.lengths[before]! : -1;
    assert.ok(prevEnd <= start, `page ${start} freed twice`);
    assert.ok(at >= this.starts.length || start + length <= this.starts[at]!, `page ${start} freed twice`);
    this.free += length;
    const joinsPrev = prevEnd === start;
    const joinsNext = at < this.starts.length && this.starts[at] === start + length;
    if (joinsPrev && joinsNext) {
      this.lengths[before]! += length + this.lengths[at]!;
      this.starts.splice(at, 1);
      this.lengths.splice(at, 1);
    } else if (joinsPrev) {
      this.lengths[before]! += length;
    } else if (joinsNext) {
      this.starts[at] = start;
      this.lengths[at]! += length;
    } else {
      this.starts.splice(at, 0, start);
      this.lengths.splice(at, 0, length);
    }
  }

  /** Index of the first run starting after `start`. */
  private insertionPoint(start: number): number {
    let low = 0;
    let high = this.starts.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.starts[mid]! < start) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
