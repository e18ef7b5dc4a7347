// Gives memory back once a burst of writes is over.
//
// V8 grows its heap to what a burst needs, garbage included, and keeps those pages until a
// full collection; its own memory reducer only acts when it sees the mutator idle, which a
// member with a heartbeat timer and peer streams rarely looks like. Measured after `etcdctl
// check datascale --load=m` (100,000 puts of 1 KiB): 270 MB of V8 heap in use, of which
// 184 MB was live, and the process's RSS stayed at 593 MB for 20 s. etcd's Go runtime returns
// such memory by itself, so a member that sits idle after a burst should too.
//
// Rule, checked every interval: collect when the heap has grown by at least `growthBytesMin`
// since the last full collection, the last interval was quiet, and the collection's
// predicted pause fits the caller's budget. Quiet means at most
// `idleWritesMax` applied entries and an event loop busy for at most `busyUtilizationMax` of
// the interval: reads, watches and lease renewals apply nothing, so counting writes alone
// called a member serving 30,000 linearizable reads a second idle.
//
// The collection stops the member for its whole length, and that length grows with the live
// heap (the key index keeps every revision until compaction): measured 440 ms for 160 MB live
// on one member alone, and 0.6-1.9 s on each of three members collecting together with a
// benchmark starting beside them. A leader stopped that long misses its heartbeats, a
// follower campaigns, and clients see "etcdserver: no leader" (seen once in a 3-member
// `bin/benchmark compare`). So in a cluster the predicted pause must stay within a budget well
// under the election timeout; the prediction scales the member's own last measured pause per
// byte (a conservative prior before the first). A single voter has nobody to lose leadership
// to and no client waiting (it is quiet), so its budget is unbounded.
import v8 from 'node:v8';
import vm from 'node:vm';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { isSoleVoter } from './voters';

export interface IdleGcPolicy {
  /** Heap growth since the last full collection that makes one worth its pause. */
  growthBytesMin: number;
  /** Applied entries per interval at or below which the interval counts as quiet. */
  idleWritesMax: number;
  /** Event-loop utilization (0..1) over the interval at or below which it counts as quiet. */
  busyUtilizationMax: number;
  /** Predicted pause per heap byte before the first collection has been measured. */
  priorPauseMsPerByte: number;
}

/**
 * How often the idle collector looks at heap growth and activity. A burst's memory goes back
 * one quiet interval after it ends (plus the collection and jemalloc's 1 s decay).
 * With a 1 s interval and one quiet check, RSS 2 s after `etcdctl check datascale --load=m`
 * was still 553-558 MB and fell to 436 MB only by 3 s; with 250 ms, 425-430 MB by 2 s (etcd:
 * 508-516 MB). A check costs a V8 heap-statistics and an event-loop-utilization call.
 */
export const DEFAULT_IDLE_GC_INTERVAL_MS = 250;

const MB = 1024 * 1024;

/**
 * Per DEFAULT_IDLE_GC_INTERVAL_MS: quiet means at most 2 applied entries (~8/s) and the loop
 * busy at most 5% of the interval (a member with only heartbeats is under 1%). One quiet
 * interval is enough: the loop's utilization is what tells a lull from load (waiting for a
 * second quiet interval was tried, and only moved the collection 250 ms later). The prior, 2 ms per MB of heap in use, is
 * above the 1.9 ms/MB measured on a lone member before the key index was packed (1.2 after).
 */
export const DEFAULT_IDLE_GC_POLICY: IdleGcPolicy = {
  growthBytesMin: 64 * MB,
  idleWritesMax: 2,
  busyUtilizationMax: 0.05,
  priorPauseMsPerByte: 2 / MB,
};

/**
 * The pause a member may take for an idle collection: unbounded for the only voter, else a
 * quarter of the election timeout, so a leader's pause leaves followers three quarters of
 * their shortest timeout (raft randomizes it in [1, 2) election timeouts) before they campaign.
 */
export function idleGcPauseBudgetMs(voters: readonly bigint[], self: bigint, electionTimeoutMs: number): number {
  return isSoleVoter(voters, self) ? Number.POSITIVE_INFINITY : electionTimeoutMs / 4;
}

/** One check's view of the member. */
export interface IdleGcSample {
  heapUsedBytes: number;
  appliedIndex: number;
  /** Event-loop utilization over the interval, 0..1. */
  loopUtilization: number;
  /** Longest acceptable pause now (Infinity when no pause can cost leadership). */
  pauseBudgetMs: number;
}

/**
 * The decision, free of clocks and V8. `observe` takes one sample per interval and says
 * whether to collect now; `collected` records what a collection left and how long it took.
 * Invariants: baselineBytes is the smallest heap size seen since the last collection, so
 * growth is measured from the low point, not from a figure V8 already undercut itself.
 */
export class IdleGcDecider {
  private baselineBytes: number | undefined;
  private lastApplied: number | undefined;
  private pauseMsPerByte: number;

  constructor(private readonly policy: IdleGcPolicy) {
    this.pauseMsPerByte = policy.priorPauseMsPerByte;
  }

  observe(sample: IdleGcSample): boolean {
    const writes = this.lastApplied === undefined ? 0 : sample.appliedIndex - this.lastApplied;
    this.lastApplied = sample.appliedIndex;
    const quiet = writes <= this.policy.idleWritesMax && sample.loopUtilization <= this.policy.busyUtilizationMax;
    if (this.baselineBytes === undefined || sample.heapUsedBytes < this.baselineBytes) {
      this.baselineBytes = sample.heapUsedBytes;
      return false;
    }
    return (
      sample.heapUsedBytes - this.baselineBytes >= this.policy.growthBytesMin &&
      quiet &&
      this.predictedPauseMs(sample.heapUsedBytes) <= sample.pauseBudgetMs
    );
  }

  /** What a collection of a heap this size would stop the member for, by the last measurement. */
  predictedPauseMs(heapUsedBytes: number): number {
    return heapUsedBytes * this.pauseMsPerByte;
  }

  collected(result: { beforeBytes: number; afterBytes: number; pauseMs: number }): void {
    this.baselineBytes = result.afterBytes;
    if (result.beforeBytes > 0) this.pauseMsPerByte = result.pauseMs / result.beforeBytes;
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
  /** Longest acceptable pause now, asked at every check (Infinity: unbounded). */
  pauseBudgetMs: () => number;
  intervalMs: number;
  policy?: IdleGcPolicy;
  onCollected?: (info: { beforeBytes: number; afterBytes: number; pauseMs: number }) => void;
}

/** V8's heap in use: what process.memoryUsage().heapUsed reports, without its /proc read for RSS. */
function usedHeapBytes(): number {
  return v8.getHeapStatistics().used_heap_size;
}

/** Starts the periodic check; returns its stop function. */
export function startIdleGc(options: IdleGcOptions): () => void {
  const decider = new IdleGcDecider(options.policy ?? DEFAULT_IDLE_GC_POLICY);
  const collect = compactingFullCollection();
  let loopSince: EventLoopUtilization = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const loopNow = performance.eventLoopUtilization();
    const loopUtilization = performance.eventLoopUtilization(loopNow, loopSince).utilization;
    loopSince = loopNow;
    const beforeBytes = usedHeapBytes();
    const sample = { heapUsedBytes: beforeBytes, appliedIndex: options.appliedIndex(), loopUtilization, pauseBudgetMs: options.pauseBudgetMs() };
    if (!decider.observe(sample)) return;
    const started = performance.now();
    collect();
    const result = { beforeBytes, afterBytes: usedHeapBytes(), pauseMs: performance.now() - started };
    decider.collected(result);
    // The pause itself must not count as the next interval's busy time.
    loopSince = performance.eventLoopUtilization();
    options.onCollected?.(result);
  }, options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
