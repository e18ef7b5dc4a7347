/**
 * The workloads `benchmark compare` runs on both systems. Totals are for --scale 1 and
 * sized so each run lasts a few seconds on a 2-core machine.
 */
export interface CompareWorkload {
  name: string;
  /** Arguments after the global flags: the command and its flags. */
  args: string[];
  conns: number;
  clients: number;
  total: number;
}

export const compareWorkloads: CompareWorkload[] = [
  { name: 'put, 1 client', args: ['put', '--key-size', '8', '--val-size', '256'], conns: 1, clients: 1, total: 5000 },
  { name: 'put, 1000 clients / 100 conns', args: ['put', '--key-size', '8', '--val-size', '256', '--key-space-size', '100000'], conns: 100, clients: 1000, total: 60000 },
  { name: 'range linearizable, 1 client', args: ['range', 'foo', '--consistency', 'l'], conns: 1, clients: 1, total: 5000 },
  { name: 'range linearizable, 1000 clients', args: ['range', 'foo', '--consistency', 'l'], conns: 100, clients: 1000, total: 40000 },
  { name: 'range serializable, 1 client', args: ['range', 'foo', '--consistency', 's'], conns: 1, clients: 1, total: 5000 },
  { name: 'range serializable, 1000 clients', args: ['range', 'foo', '--consistency', 's'], conns: 100, clients: 1000, total: 40000 },
  { name: 'txn-put, 1000 clients / 100 conns', args: ['txn-put', '--key-size', '8', '--val-size', '256', '--key-space-size', '100000'], conns: 100, clients: 1000, total: 40000 },
  { name: 'watch, 10x10 watchers, 1000 puts', args: ['watch', '--streams', '10', '--watchers-per-stream', '10', '--put-total', '1000'], conns: 10, clients: 10, total: 1 },
];

export function scaled(workload: CompareWorkload, scale: number): string[] {
  const total = Math.max(1, Math.round(workload.total * scale));
  const args = [...workload.args];
  const putTotal = args.indexOf('--put-total');
  if (putTotal >= 0) args[putTotal + 1] = String(Math.max(10, Math.round(Number(args[putTotal + 1]) * scale)));
  return ['--conns', String(workload.conns), '--clients', String(workload.clients), '--total', String(total), ...args];
}
