// The synced group: finds the watchers an event's key concerns without looking at the
// others. Single-key watchers sit in a Map by key; range and prefix watchers in an
// interval tree, one node per distinct interval (many clients watching the same prefix
// share a node). Matching one key costs a Map lookup plus O(log ranges + matches).

import { IntervalTree } from './interval-tree';
import type { KeyText } from './key-range';
import type { Watcher } from './watcher';

export class WatcherIndex {
  private readonly byKey = new Map<KeyText, Set<Watcher>>();
  private readonly byInterval = new IntervalTree<Set<Watcher>>();
  private readonly membersSet = new Set<Watcher>();

  get size(): number {
    return this.membersSet.size;
  }

  /** A snapshot of the members (safe to modify the index while iterating it). */
  members(): Watcher[] {
    return [...this.membersSet];
  }

  has(watcher: Watcher): boolean {
    return this.membersSet.has(watcher);
  }

  add(watcher: Watcher): void {
    if (this.membersSet.has(watcher)) throw new Error('watcher index: watcher added twice');
    this.membersSet.add(watcher);
    const keys = watcher.keys;
    if (keys.kind === 'single') {
      let set = this.byKey.get(keys.key);
      if (set === undefined) {
        set = new Set();
        this.byKey.set(keys.key, set);
      }
      set.add(watcher);
      return;
    }
    let set = this.byInterval.get(keys.start, keys.end);
    if (set === undefined) {
      set = new Set();
      this.byInterval.insert(keys.start, keys.end, set);
    }
    set.add(watcher);
  }

  /** Returns false if the watcher was not in the index. */
  delete(watcher: Watcher): boolean {
    if (!this.membersSet.delete(watcher)) return false;
    const keys = watcher.keys;
    if (keys.kind === 'single') {
      const set = this.byKey.get(keys.key);
      if (set === undefined || !set.delete(watcher)) throw new Error('watcher index: single-key entry missing');
      if (set.size === 0) this.byKey.delete(keys.key);
      return true;
    }
    const set = this.byInterval.get(keys.start, keys.end);
    if (set === undefined || !set.delete(watcher)) throw new Error('watcher index: interval entry missing');
    if (set.size === 0) this.byInterval.delete(keys.start, keys.end);
    return true;
  }

  /** Calls visit for every watcher whose keys contain `key` (each watcher once). */
  forEachMatch(key: KeyText, visit: (watcher: Watcher) => void): void {
    const single = this.byKey.get(key);
    if (single !== undefined) for (const watcher of single) visit(watcher);
    // A watcher sits in exactly one place, so the two sources never repeat a watcher.
    this.byInterval.stab(key, (set) => {
      for (const watcher of set) visit(watcher);
    });
  }
}
