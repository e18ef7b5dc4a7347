import { binPath, runCommand, startCluster, type Cluster } from '@keel/harness';
import type { RunStats } from '../src/report/stats';

// bin/benchmark against REAL etcd: proves the tool speaks the etcd v3 API correctly, since
// real etcd only counts requests it understood.
const etcdctl = (cluster: Cluster, ...args: string[]) =>
  runCommand('etcdctl', ['--endpoints', cluster.endpoints.join(','), ...args], { env: { ...process.env, ETCDCTL_API: '3' } });

async function benchmark(cluster: Cluster, ...args: string[]): Promise<RunStats> {
  const result = await runCommand(binPath('benchmark'), ['--endpoints', cluster.endpoints.join(','), '--output', 'json', ...args], { timeoutMs: 60000 });
  if (result.code !== 0) throw new Error(`benchmark failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout) as RunStats;
}

describe('bin/benchmark against real etcd', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ command: 'etcd', size: 1 });
  }, 60000);
  afterAll(() => cluster?.destroy());

  it('put with sequential keys writes exactly --total distinct keys', async () => {
    const stats = await benchmark(cluster, '--conns', '4', '--clients', '20', '--workers', '2', '--total', '300', 'put', '--sequential-keys', '--key-space-size', '300');
    expect(stats.requests).toBe(300);
    expect(stats.errors).toEqual({});
    const count = await etcdctl(cluster, 'get', '--from-key', '', '--keys-only', '--limit', '1', '-w', 'json');
    expect(JSON.parse(count.stdout).count).toBe(300);
  });

  it('range, txn-put and lease-keepalive complete without errors', async () => {
    await etcdctl(cluster, 'put', 'foo', 'bar');
    for (const args of [
      ['range', 'foo', '--consistency', 's'],
      ['range', 'foo', '--consistency', 'l'],
      ['txn-put', '--key-space-size', '10'],
      ['lease-keepalive'],
    ]) {
      const stats = await benchmark(cluster, '--conns', '2', '--clients', '4', '--total', '100', ...args);
      expect({ args, requests: stats.requests, errors: stats.errors }).toEqual({ args, requests: 100, errors: {} });
    }
  });

  it('watch counts every event delivered to every watcher', async () => {
    const stats = await benchmark(cluster, '--conns', '2', '--clients', '2', 'watch', '--streams', '3', '--watchers-per-stream', '4', '--put-total', '50');
    expect(stats.requests).toBe(50 * 3 * 4);
    expect(stats.errors).toEqual({});
  });

  it('reports request errors in the error distribution', async () => {
    const stats = await benchmark(cluster, '--total', '5', 'range', 'foo', '--consistency', 'l');
    expect(stats.requests).toBe(5);
    const big = await runCommand(binPath('benchmark'), ['--endpoints', cluster.endpoints[0]!, '--total', '3', 'put', '--val-size', String(1700 * 1024)]);
    expect(big.stdout).toContain('Error distribution:');
    expect(big.stdout).toContain('etcdserver: request is too large');
  });

  it('refuses bad flags with a usage error', async () => {
    const result = await runCommand(binPath('benchmark'), ['--conns', '0', 'put']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--conns must be a positive integer');
  });
});
