import type { RunStats } from '../report/stats';

export interface CompareRow {
  workload: string;
  members: number;
  etcd: RunStats[];
  keel: RunStats[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function p99(stats: RunStats): number {
  return stats.percentiles.find((p) => p.percentile === 99)?.seconds ?? NaN;
}

export interface RowFigures {
  etcdRps: number;
  keelRps: number;
  throughputRatio: number;
  etcdP99Ms: number;
  keelP99Ms: number;
  keelErrors: number;
}

/** Medians over rounds; ratio is Keel/etcd throughput (≥ 1 means Keel is at least as fast). */
export function rowFigures(row: CompareRow): RowFigures {
  const etcdRps = median(row.etcd.map((s) => s.requestsPerSecond));
  const keelRps = median(row.keel.map((s) => s.requestsPerSecond));
  return {
    etcdRps,
    keelRps,
    throughputRatio: etcdRps > 0 ? keelRps / etcdRps : NaN,
    etcdP99Ms: median(row.etcd.map(p99)) * 1000,
    keelP99Ms: median(row.keel.map(p99)) * 1000,
    keelErrors: row.keel.reduce((n, s) => n + Object.values(s.errors).reduce((a, b) => a + b, 0), 0),
  };
}

export function formatCompareTable(rows: CompareRow[]): string {
  const header = ['workload', 'members', 'etcd req/s', 'keel req/s', 'keel/etcd', 'etcd p99 ms', 'keel p99 ms', 'keel errors'];
  const body = rows.map((row) => {
    const f = rowFigures(row);
    return [
      row.workload,
      String(row.members),
      f.etcdRps.toFixed(0),
      f.keelRps.toFixed(0),
      `${f.throughputRatio.toFixed(2)}x`,
      f.etcdP99Ms.toFixed(2),
      f.keelP99Ms.toFixed(2),
      String(f.keelErrors),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n') + '\n';
}
