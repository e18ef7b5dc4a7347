// Keeps the benchmark driver working (no timing is asserted: figures belong in reports).
import { runThroughputBench } from '../src/testing';

describe('throughput benchmark driver', () => {
  it.each([true, false])('commits every entry on all three nodes (proposeBatch=%s)', (proposeBatch) => {
    let fakeMillis = 0;
    const result = runThroughputBench(
      { entries: 3000, batch: 50, payloadBytes: 16, proposeBatch },
      { wallMillis: () => (fakeMillis += 1), cpuMicros: () => 0 },
    );
    expect(result.entries).toBe(3000);
    expect(result.readies).toBeGreaterThan(0);
    // One batch is one append and one broadcast, so far fewer messages than entries.
    if (proposeBatch) expect(result.messages).toBeLessThan(result.entries);
    else expect(result.messages).toBeGreaterThan(result.entries);
  });
});
