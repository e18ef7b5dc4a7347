import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { startCluster, binPath, type Cluster } from '@keel/harness';
import { positiveInt, UsageError, type ParsedCommandLine } from '../options';
import type { RunStats } from '../report/stats';
import { H2GrpcConnection } from '../client/h2-grpc';
import { encodePut } from '../client/wire';
import { compareWorkloads, scaled, type CompareWorkload } from './workloads';
import { formatCompareTable, type CompareRow } from './table';
import { leaderFirst } from './leader';

/**
 * The Keel member launcher. The harness's binPath() is relative to its own source file, which is
 * wrong once this program is bundled into dist/benchmark/, so look upwards from wherever this
 * code runs for the repository's bin/member.
 */
export function keelMemberPath(explicit: string | undefined): string {
  if (explicit) return explicit;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'bin', 'member');
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return binPath('member');
  }
}

/** Runs one workload by starting this same benchmark program as a child with --output json. */
function runOnce(endpoints: string[], args: string[]): Promise<RunStats> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'main.js'), '--endpoints', endpoints.join(','), '--output', 'json', ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`benchmark ${args.join(' ')} exited with ${code}`));
      else resolve(JSON.parse(out) as RunStats);
    });
  });
}

/**
 * Unmeasured runs of a workload on each system before its measured rounds. A fresh cluster
 * answers its first few thousand requests cold: Keel's JavaScript is still being compiled (3
 * members, 1-client puts with no warm-up, first of eight 3,000-put runs: 651 puts/s and p99
 * 6.5 ms, then 935-1,034 and 2.6-2.9 ms), and both systems' caches and allocators are still
 * growing. A deployed member has long passed that point, so the rounds measure after it.
 */
async function warmUp(endpointsOf: Record<'etcd' | 'keel', string[]>, args: string[], runs: number, label: string): Promise<void> {
  for (let run = 0; run < runs; run++) {
    for (const system of ['etcd', 'keel'] as const) {
      process.stderr.write(`${label}: ${system}, warm-up ${run + 1}/${runs} (not measured)\n`);
      await runOnce(endpointsOf[system], args);
    }
  }
}

/** How long a fresh cluster may take to elect a leader and accept the seed write. */
const SEED_DEADLINE_MS = 20_000;
const SEED_RETRY_MS = 100;

/**
 * Writes the key the range workloads read. A cluster's client port opens before it has a
 * leader, so "no leader" (and other early refusals) are retried until the deadline.
 */
async function seedRangeKey(cluster: Cluster): Promise<void> {
  const deadline = Date.now() + SEED_DEADLINE_MS;
  for (;;) {
    const connection = new H2GrpcConnection(`http://${cluster.endpoints[0]}`);
    try {
      await connection.unary('/etcdserverpb.KV/Put', encodePut(new TextEncoder().encode('foo'), new TextEncoder().encode('bar')));
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    } finally {
      await connection.close();
    }
    await new Promise((resolve) => setTimeout(resolve, SEED_RETRY_MS));
  }
}

function selectWorkloads(filter: string | undefined): CompareWorkload[] {
  if (!filter) return compareWorkloads;
  const wanted = filter.split(',').map((s) => s.trim().toLowerCase());
  const chosen = compareWorkloads.filter((w) => wanted.some((f) => w.name.toLowerCase().startsWith(f)));
  if (chosen.length === 0) throw new UsageError(`--workloads matched none of: ${compareWorkloads.map((w) => w.name).join('; ')}`);
  return chosen;
}

/**
 * `benchmark compare`: starts real etcd and Keel clusters of the same size with the same
 * flags on free loopback ports, runs every workload on both (after --warmup-runs unmeasured
 * runs each), alternating which goes first each round, and prints medians and the Keel/etcd ratio.
 */
export async function runCompare(parsed: ParsedCommandLine): Promise<number> {
  const v = parsed.values;
  const memberCounts = String(v.members).split(',').map((m) => positiveInt('members', m));
  const rounds = positiveInt('rounds', String(v.rounds));
  const warmupRuns = positiveInt('warmup-runs', String(v['warmup-runs']), true);
  const scale = Number(v.scale);
  if (!(scale > 0)) throw new UsageError('--scale must be a positive number');
  const workloads = selectWorkloads(v.workloads as string | undefined);
  const rows: CompareRow[] = [];
  for (const members of memberCounts) {
    const etcd = await startCluster({ command: String(v['etcd-binary']), size: members });
    const keel = await startCluster({ command: keelMemberPath(v['keel-binary'] as string | undefined), size: members }).catch(async (err: unknown) => {
      await etcd.destroy();
      throw err;
    });
    try {
      await Promise.all([seedRangeKey(etcd), seedRangeKey(keel)]);
      // Leader first in both: the 1-client workloads then go to the same role in each (./leader).
      const [etcdEndpoints, keelEndpoints] = await Promise.all([leaderFirst(etcd.endpoints), leaderFirst(keel.endpoints)]);
      const endpointsOf = { etcd: etcdEndpoints, keel: keelEndpoints };
      process.stderr.write(`[${members} member(s)] leaders: etcd ${etcdEndpoints[0]}, keel ${keelEndpoints[0]}\n`);
      for (const workload of workloads) {
        const row: CompareRow = { workload: workload.name, members, etcd: [], keel: [] };
        const args = scaled(workload, scale);
        const label = `[${members} member(s)] ${workload.name}`;
        await warmUp(endpointsOf, args, warmupRuns, label);
        for (let round = 0; round < rounds; round++) {
          const order: ('etcd' | 'keel')[] = round % 2 === 0 ? ['etcd', 'keel'] : ['keel', 'etcd'];
          for (const system of order) {
            process.stderr.write(`${label}: ${system}, round ${round + 1}/${rounds}\n`);
            row[system].push(await runOnce(endpointsOf[system], args));
          }
        }
        rows.push(row);
      }
    } finally {
      await Promise.all([etcd.destroy(), keel.destroy()]);
    }
  }
  if (parsed.global.output === 'json') process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  else process.stdout.write(formatCompareTable(rows));
  return 0;
}
