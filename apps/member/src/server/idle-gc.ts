// Gives memory back once a burst of writes is over.
//
// V8 grows its heap to what a burst needs, garbage included, and keeps those pages until a
// full collection; its own memory reducer only acts when it sees the mutator idle, which a
// member with a heartbeat timer and peer streams rarely looks like. Measured after `etcdctl
// check datascale --load=m` (100,000 puts of 1 KiB): 270 MB of V8 heap in use, of which
// 184 MB was live, and the process's RSS stayed at 593 MB for 20 s. etcd's Go runtime returns
// such memory by itself, so a member that sits idle after a burst should too.
//
// Rule, checked every interval: when the heap has grown by at least `growthBytesMin` since
// the last full collection and fewer than `idleWritesMax` entries were applied during the
// interval, run one full collection. The pause (~100 ms for a few hundred MB) then falls
// where no write is waiting; a steadily busy member never pays it, and V8's own collector
// still bounds the heap there.
import v8 from 'node:v8';
import vm from 'node:vm';

export interface IdleGcPolicy {
  /** Heap growth since the last full collection that makes one worth its pause. */
  growthBytesMin: number;
  /** Applied entries per interval at or below which the member counts as idle. */
  idleWritesMax: number;
}

/**
 * How often the idle collector looks at heap growth and write activity. A burst's memory goes
 * back one quiet interval after it ends (plus the collection and jemalloc's 1 s decay): with
 * 1 s, RSS 2 s after `etcdctl check datascale --load=m` was still 553-558 MB and fell to 436 MB
 * only by 3 s; with 250 ms it is 425-430 MB by 2 s (etcd: 508-516 MB). A check costs a heap
 * statistics call; the collection itself still needs a quiet interval and 64 MB of growth.
 */
export const DEFAULT_IDLE_GC_INTERVAL_MS = 250;

/** Per DEFAULT_IDLE_GC_INTERVAL_MS: idle means at most 2 applied entries in it (~8/s). */
export const DEFAULT_IDLE_GC_POLICY: IdleGcPolicy = { growthBytesMin: 64 * 1024 * 1024, idleWritesMax: 2 };

/**
 * The decision, free of clocks and V8. `observe` takes one sample per interval and says
 * whether to collect now; `collected` records the heap size a collection left.
 * Invariant: baselineBytes is the smallest heap size seen since the last collection, so
 * growth is measured from the low point, not from a figure V8 already undercut itself.
 */
export class IdleGcDecider {
  private baselineBytes: number | undefined;
  private lastApplied: number | undefined;

  constructor(private readonly policy: IdleGcPolicy) {}

  observe(heapUsedBytes: number, appliedIndex: number): boolean {
    const writes = this.lastApplied === undefined ? 0 : appliedIndex - this.lastApplied;
    this.lastApplied = appliedIndex;
    if (this.baselineBytes === undefined || heapUsedBytes < this.baselineBytes) {
      this.baselineBytes = heapUsedBytes;
      return false;
    }
    return heapUsedBytes - this.baselineBytes >= this.policy.growthBytesMin && writes <= this.policy.idleWritesMax;
  }

  collected(heapUsedBytes: number): void {
    this.baselineBytes = heapUsedBytes;
  }
}

/**
 * V8's full collection (the `gc` global when node runs with --expose-gc, else exposed now),
 * compacting every page: V8's own heuristics compact only the most fragmented pages, which
 * after a burst left old space at 209 MB committed for 129 MB live.
 */
function compactingFullCollection(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  let gc: () => void;
  if (typeof exposed === 'function') gc = exposed;
  else {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  return () => {
    v8.setFlagsFromString('--compact-on-every-full-gc');
    try {
      gc();
    } finally {
      v8.setFlagsFromString('--no-compact-on-every-full-gc');
    }
  };
}

export interface IdleGcOptions {
  appliedIndex: () => number;
  intervalMs: number;
  policy?: IdleGcPolicy;
  onCollected?: (info: { beforeBytes: number; afterBytes: number; pauseMs: number }) => void;
}

/** Starts the periodic check; returns its stop function. */
export function startIdleGc(options: IdleGcOptions): () => void {
  const decider = new IdleGcDecider(options.policy ?? DEFAULT_IDLE_GC_POLICY);
  const collect = compactingFullCollection();
  const timer = setInterval(() => {
    const beforeBytes = process.memoryUsage().heapUsed;
    if (!decider.observe(beforeBytes, options.appliedIndex())) return;
    const started = performance.now();
    collect();
    const afterBytes = process.memoryUsage().heapUsed;
    decider.collected(afterBytes);
    options.onCollected?.({ beforeBytes, afterBytes, pauseMs: performance.now() - started });
  }, options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
