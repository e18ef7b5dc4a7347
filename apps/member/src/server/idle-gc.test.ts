import { IdleGcDecider, startIdleGc } from './idle-gc';

const MB = 1024 * 1024;

describe('idle full collection', () => {
  const policy = { growthBytesMin: 64 * MB, idleWritesMax: 10 };

  it('collects once the heap grew past the threshold and writes have stopped', () => {
    const decider = new IdleGcDecider(policy);
    expect(decider.observe(100 * MB, 0)).toBe(false); // first sample sets the baseline
    expect(decider.observe(200 * MB, 50_000)).toBe(false); // grew, but busy
    expect(decider.observe(260 * MB, 100_000)).toBe(false); // still busy
    expect(decider.observe(270 * MB, 100_001)).toBe(true); // idle now
    decider.collected(150 * MB);
    expect(decider.observe(151 * MB, 100_001)).toBe(false); // baseline moved to the collection's result
  });

  it('does not collect for small growth, however idle', () => {
    const decider = new IdleGcDecider(policy);
    decider.observe(100 * MB, 0);
    expect(decider.observe(100 * MB + 63 * MB, 0)).toBe(false);
    expect(decider.observe(100 * MB + 64 * MB, 0)).toBe(true);
  });

  it('measures growth from the lowest heap seen, so V8 collecting by itself resets it', () => {
    const decider = new IdleGcDecider(policy);
    decider.observe(300 * MB, 0);
    expect(decider.observe(120 * MB, 0)).toBe(false); // V8 collected: new low point
    expect(decider.observe(180 * MB, 0)).toBe(false); // +60 MB from the low point
    expect(decider.observe(190 * MB, 0)).toBe(true); // +70 MB
  });

  it('counts the writes applied during the interval, not in total', () => {
    const decider = new IdleGcDecider(policy);
    decider.observe(100 * MB, 1_000_000);
    expect(decider.observe(200 * MB, 1_000_011)).toBe(false); // 11 writes: busy
    expect(decider.observe(200 * MB, 1_000_021)).toBe(true); // 10 writes: idle
  });

  it('runs a real full collection that frees unreachable memory', async () => {
    let garbage: unknown[] | undefined = Array.from({ length: 200_000 }, (_, i) => ({ i, pad: 'x'.repeat(40) + i }));
    const collections: Array<{ beforeBytes: number; afterBytes: number }> = [];
    const stop = startIdleGc({
      appliedIndex: () => 0,
      intervalMs: 5,
      policy: { growthBytesMin: 0, idleWritesMax: 0 },
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
});
