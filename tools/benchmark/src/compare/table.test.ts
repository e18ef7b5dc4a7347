import { formatCompareTable, rowFigures } from './table';
import { scaled, compareWorkloads } from './workloads';
import type { RunStats } from '../report/stats';

const run = (rps: number, p99Seconds: number): RunStats => ({
  totalSeconds: 1, requests: rps, slowestSeconds: 1, fastestSeconds: 0, averageSeconds: 0, stddevSeconds: 0,
  requestsPerSecond: rps, percentiles: [{ percentile: 99, seconds: p99Seconds }], histogram: [], errors: {},
});

describe('compare table', () => {
  it('reports the median of rounds and the Keel/etcd ratio', () => {
    const row = { workload: 'put', members: 1, etcd: [run(100, 0.002), run(300, 0.004), run(200, 0.003)], keel: [run(150, 0.001), run(250, 0.002), run(50, 0.009)] };
    const f = rowFigures(row);
    expect(f.etcdRps).toBe(200);
    expect(f.keelRps).toBe(150);
    expect(f.throughputRatio).toBeCloseTo(0.75);
    expect(f.etcdP99Ms).toBeCloseTo(3);
    expect(formatCompareTable([row])).toContain('| 0.75x');
  });

  it('scales totals but keeps at least one request', () => {
    const put = compareWorkloads[0]!;
    expect(scaled(put, 0.01)).toEqual(['--conns', '1', '--clients', '1', '--total', '50', ...put.args]);
    const watch = compareWorkloads.find((w) => w.name.startsWith('watch'))!;
    expect(scaled(watch, 0.001)).toContain('10');
  });
});
