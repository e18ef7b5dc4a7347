import { binPath, runCommand } from '@keel/harness';
import type { CompareRow } from '../src/compare/table';

// `bin/benchmark compare` end to end: real etcd and a real Keel member on free loopback ports,
// one small workload, so the run takes seconds.
async function compare(...args: string[]) {
  return runCommand(binPath('benchmark'), ['compare', '--members', '1', '--scale', '0.001', '--workloads', 'txn', '--output', 'json', ...args], { timeoutMs: 120000 });
}

describe('bin/benchmark compare', () => {
  it('warms each system up unmeasured, then measures only the rounds', async () => {
    const result = await compare('--rounds', '2', '--warmup-runs', '1');
    expect(result.code).toBe(0);
    const warmUps = result.stderr.split('\n').filter((line) => line.includes('warm-up 1/1 (not measured)'));
    expect(warmUps.map((line) => line.split(': ')[1]!.split(',')[0])).toEqual(['etcd', 'keel']);
    const rows = JSON.parse(result.stdout) as CompareRow[];
    expect(rows.map((row) => [row.workload, row.etcd.length, row.keel.length])).toEqual([['txn-put, 1000 clients / 100 conns', 2, 2]]);
    for (const stats of [...rows[0]!.etcd, ...rows[0]!.keel]) expect({ requests: stats.requests, errors: stats.errors }).toEqual({ requests: 40, errors: {} });
  }, 120000);

  it('skips the warm-up with --warmup-runs 0 and refuses a negative count', async () => {
    const none = await compare('--rounds', '1', '--warmup-runs', '0');
    expect(none.code).toBe(0);
    expect(none.stderr).not.toContain('warm-up');
    const negative = await compare('--warmup-runs=-1');
    expect(negative.code).toBe(2);
    expect(negative.stderr).toContain('--warmup-runs must be a non-negative integer, got "-1"');
  }, 120000);
});
