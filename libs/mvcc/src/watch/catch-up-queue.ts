// Schedules history reads for unsynced watchers: at most `concurrency` reads at once,
// each for a group of up to `groupMax` watchers, round-robin (a watcher with more
// history to read goes to the back), so watchers far behind cannot starve the others,
// and catch-up never holds up live delivery (live events are handed out synchronously
// from the commit callback; reads are async).

import type { Watcher } from './watcher';

export interface CatchUpQueueOptions {
  concurrency: number;
  groupMax: number;
  retryDelayMs: number;
  /** Reads one chunk for the group; must not reject. */
  step: (group: Watcher[]) => Promise<void>;
}

export class CatchUpQueue {
  /** Waiting watchers in arrival order (a Set keeps insertion order and deletes in O(1)). */
  private readonly waiting = new Set<Watcher>();
  private readonly retries = new Map<Watcher, NodeJS.Timeout>();
  /** Watchers in the groups being read. */
  private running = 0;
  private runningGroups = 0;
  private kickScheduled = false;
  private closed = false;
  /** Settles when nothing is waiting or running (tests and shutdown use it). */
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: CatchUpQueueOptions) {
    if (options.concurrency < 1 || options.groupMax < 1) throw new Error('catch-up: concurrency and groupMax must be >= 1');
  }

  get size(): number {
    return this.waiting.size + this.running + this.retries.size;
  }

  schedule(watcher: Watcher): void {
    if (this.closed) return;
    this.waiting.add(watcher);
    this.kickSoon();
  }

  /** Schedules again after the retry delay (after a failed read). */
  retryLater(watcher: Watcher): void {
    if (this.closed || this.retries.has(watcher)) return;
    const timer = setTimeout(() => {
      this.retries.delete(watcher);
      this.schedule(watcher);
    }, this.options.retryDelayMs);
    timer.unref();
    this.retries.set(watcher, timer);
  }

  remove(watcher: Watcher): void {
    this.waiting.delete(watcher);
    const timer = this.retries.get(watcher);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.retries.delete(watcher);
    }
    this.settleIfIdle();
  }

  close(): void {
    this.closed = true;
    this.waiting.clear();
    for (const timer of this.retries.values()) clearTimeout(timer);
    this.retries.clear();
    this.settleIfIdle();
  }

  whenIdle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Starts steps on a microtask, so callers never see a step begin inside their own call. */
  private kickSoon(): void {
    if (this.kickScheduled) return;
    this.kickScheduled = true;
    queueMicrotask(() => {
      this.kickScheduled = false;
      this.kick();
    });
  }

  private kick(): void {
    while (!this.closed && this.runningGroups < this.options.concurrency && this.waiting.size > 0) {
      const group: Watcher[] = [];
      for (const watcher of this.waiting) {
        if (group.length === this.options.groupMax) break;
        group.push(watcher);
      }
      for (const watcher of group) this.waiting.delete(watcher);
      this.running += group.length;
      this.runningGroups++;
      void this.options.step(group).finally(() => {
        this.running -= group.length;
        this.runningGroups--;
        this.kick();
        this.settleIfIdle();
      });
    }
  }

  private settleIfIdle(): void {
    if (this.size !== 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
