import { IdleGcDecider, idleGcPauseBudgetMs, startIdleGc, type IdleGcPolicy, type IdleGcSample } from './idle-gc';

const MB = 1024 * 1024;

describe('idle full collection', () => {
  const policy: IdleGcPolicy = {
    growthBytesMin: 64 * MB,
    idleWritesMax: 10,
    busyUtilizationMax: 0.05,
    priorPauseMsPerByte: 1 / MB,
  };
  /** A quiet sample with no pause budget limit unless overridden. */
  const sample = (heapMb: number, appliedIndex: number, more: Partial<IdleGcSample> = {}): IdleGcSample => ({
    heapUsedBytes: heapMb * MB,
    appliedIndex,
    loopUtilization: 0.01,
    pauseBudgetMs: Number.POSITIVE_INFINITY,
    ...more,
  });

  it('collects once the heap grew past the threshold and writes have stopped', () => {
    const decider = new IdleGcDecider(policy);
    expect(decider.observe(sample(100, 0))).toBe(false); // first sample sets the baseline
    expect(decider.observe(sample(200, 50_000))).toBe(false); // grew, but busy
    expect(decider.observe(sample(260, 100_000))).toBe(false); // still busy
    expect(decider.observe(sample(270, 100_001))).toBe(true); // idle now
    decider.collected({ beforeBytes: 270 * MB, afterBytes: 150 * MB, pauseMs: 100 });
    expect(decider.observe(sample(151, 100_001))).toBe(false); // baseline moved to the collection's result
  });

  it('does not collect for small growth, however idle', () => {
    const decider = new IdleGcDecider(policy);
    decider.observe(sample(100, 0));
    expect(decider.observe(sample(100 + 63, 0))).toBe(false);
    expect(decider.observe(sample(100 + 64, 0))).toBe(true);
  });

  it('measures growth from the lowest heap seen, so V8 collecting by itself resets it', () => {
    const decider = new IdleGcDecider(policy);
    decider.observe(sample(300, 0));
    expect(decider.observe(sample(120, 0))).toBe(false); // V8 collected: new low point
    expect(decider.observe(sample(180, 0))).toBe(false); // +60 MB from the low point
    expect(decider.observe(sample(190, 0))).toBe(true); // +70 MB
  });

  it('counts the writes applied during the interval, not in total', () => {
    const decider = new IdleGcDecider(policy);
    decider.observe(sample(100, 1_000_000));
    expect(decider.observe(sample(200, 1_000_011))).toBe(false); // 11 writes: busy
    expect(decider.observe(sample(200, 1_000_021))).toBe(true); // 10 writes: idle
  });

  it('treats a busy event loop as busy even when nothing is written (reads, watches)', () => {
    const decider = new IdleGcDecider(policy);
    decider.observe(sample(100, 0));
    expect(decider.observe(sample(200, 0, { loopUtilization: 0.9 }))).toBe(false);
    expect(decider.observe(sample(200, 0, { loopUtilization: 0.06 }))).toBe(false);
    expect(decider.observe(sample(200, 0, { loopUtilization: 0.05 }))).toBe(true);
  });

  it('skips a collection whose predicted pause exceeds the budget, predicting from the last one measured', () => {
    const decider = new IdleGcDecider(policy); // prior: 1 ms per MB
    decider.observe(sample(100, 0));
    expect(decider.observe(sample(300, 0, { pauseBudgetMs: 250 }))).toBe(false); // 300 ms predicted
    expect(decider.observe(sample(300, 0, { pauseBudgetMs: 300 }))).toBe(true);
    decider.collected({ beforeBytes: 300 * MB, afterBytes: 100 * MB, pauseMs: 60 }); // measured 0.2 ms per MB
    expect(decider.predictedPauseMs(1000 * MB)).toBeCloseTo(200);
    expect(decider.observe(sample(1000, 0, { pauseBudgetMs: 250 }))).toBe(true);
    decider.collected({ beforeBytes: 1000 * MB, afterBytes: 100 * MB, pauseMs: 2000 }); // 2 ms per MB now
    expect(decider.observe(sample(200, 0, { pauseBudgetMs: 250 }))).toBe(false);
    expect(decider.observe(sample(200, 0))).toBe(true); // unbounded budget
  });

  it('bounds the pause by the election timeout except on a single voter', () => {
    expect(idleGcPauseBudgetMs([1n], 1n, 1000)).toBe(Number.POSITIVE_INFINITY);
    expect(idleGcPauseBudgetMs([1n, 2n, 3n], 1n, 1000)).toBe(250);
    expect(idleGcPauseBudgetMs([2n], 1n, 1000)).toBe(250); // a learner beside one voter
  });

  it('runs a real full collection that frees unreachable memory', async () => {
    let garbage: unknown[] | undefined = Array.from({ length: 200_000 }, (_, i) => ({ i, pad: 'x'.repeat(40) + i }));
    const collections: Array<{ beforeBytes: number; afterBytes: number }> = [];
    const stop = startIdleGc({
      appliedIndex: () => 0,
      pauseBudgetMs: () => Number.POSITIVE_INFINITY,
      intervalMs: 5,
      policy: { ...policy, growthBytesMin: 0, idleWritesMax: 0, busyUtilizationMax: 1 },
      onCollected: (info) => collections.push(info),
    });
    await new Promise((r) => setTimeout(r, 20));
    garbage = undefined;
    await new Promise((r) => setTimeout(r, 40));
    stop();
    expect(garbage).toBeUndefined();
    expect(collections.length).toBeGreaterThan(0);
    const freed = Math.max(...collections.map((c) => c.beforeBytes - c.afterBytes));
    expect(freed).toBeGreaterThan(5 * MB);
  });

  it('does not collect while the event loop is kept busy', async () => {
    const collections: unknown[] = [];
    const stop = startIdleGc({
      appliedIndex: () => 0,
      pauseBudgetMs: () => Number.POSITIVE_INFINITY,
      intervalMs: 20,
      policy: { ...policy, growthBytesMin: 0, idleWritesMax: 0 },
      onCollected: (info) => collections.push(info),
    });
    const until = Date.now() + 200;
    // Busy turns of ~5 ms separated by a bare setImmediate: the loop is busy almost all the time.
    while (Date.now() < until) {
      const turnEnd = Date.now() + 5;
      while (Date.now() < turnEnd);
      await new Promise((r) => setImmediate(r));
    }
    stop();
    expect(collections).toEqual([]);
  });
});
