// FreePages: bbolt's array freelist rules, page by page.
import { FreePages } from './freelist';

describe('FreePages', () => {
  it('hands out nothing until freed pages are released (they stay pending in their tx)', () => {
    const free = new FreePages();
    free.release(10, 3);
    expect(free.allocate(1)).toBe(0);
    expect([free.freeCount(), free.pendingCount()]).toEqual([0, 3]);
    free.releasePending();
    expect([free.freeCount(), free.pendingCount()]).toEqual([3, 0]);
  });

  it('allocates first fit in page order from the low end of a run', () => {
    const free = new FreePages();
    free.release(20, 5);
    free.release(5, 2);
    free.release(40, 1);
    free.releasePending();
    expect(free.allocate(3)).toBe(20);
    expect(free.allocate(1)).toBe(5);
    expect(free.allocate(2)).toBe(23);
    expect(free.allocate(2)).toBe(0); // only 6 and 40 are left, not contiguous
    expect(free.runs()).toEqual([
      [6, 1],
      [40, 1],
    ]);
  });

  it('merges adjacent runs so larger allocations fit again', () => {
    const free = new FreePages();
    free.release(7, 1);
    free.release(5, 2);
    free.release(8, 4);
    free.releasePending();
    expect(free.runs()).toEqual([[5, 7]]);
    expect(free.allocate(7)).toBe(5);
    expect(free.freeCount()).toBe(0);
  });

  it('refuses to free a page twice and never frees the meta pages', () => {
    const free = new FreePages();
    free.release(9, 2);
    free.releasePending();
    free.release(10, 1);
    expect(() => free.releasePending()).toThrow(/freed twice/);
    expect(() => new FreePages().release(1, 1)).toThrow();
  });

  it('reset replaces everything (a reopened file)', () => {
    const free = new FreePages();
    free.release(9, 2);
    free.reset([
      [3, 1],
      [4, 2],
    ]);
    expect([free.runs(), free.freeCount(), free.pendingCount()]).toEqual([[[3, 3]], 3, 0]);
  });
});
