// Command-line behaviour compared with real etcd 3.4: exit statuses for bad flags, and the
// meaning of a negative --quota-backend-bytes (quota disabled, gauge shows the setting).
// Test-only use of the workspace test harness (a tool project).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { binPath, makeTempDir, removeTempDir, runCommand, startCluster } from '@keel/harness';

jest.setTimeout(90_000);

const BAD_COMMAND_LINES: string[][] = [
  ['--bogus'],
  ['extra'],
  ['--heartbeat-interval=abc'],
  ['--listen-client-urls=foo'],
  ['--snapshot-count=-1'],
  ['--initial-cluster-state=foo'],
  ['--auto-compaction-mode=bogus'],
  ['--election-timeout=10'],
];

async function exitStatus(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<number | null> {
  const dir = makeTempDir('compat-config');
  try {
    const result = await runCommand(command, [`--data-dir=${dir}/data`, ...args], { env: { ...process.env, ...env }, timeoutMs: 20_000 });
    return result.code;
  } finally {
    removeTempDir(dir);
  }
}

describe('bad configuration exits as etcd does', () => {
  test.each(BAD_COMMAND_LINES.map((args) => [args.join(' '), args] as const))('%s', async (_, args) => {
    const expected = await exitStatus('etcd', args);
    expect(expected).not.toBe(0);
    expect(await exitStatus(binPath('member'), args)).toBe(expected);
  });

  test('a bad value from the environment', async () => {
    const env = { ETCD_HEARTBEAT_INTERVAL: 'abc' };
    const expected = await exitStatus('etcd', [], env);
    expect(expected).toBe(1);
    expect(await exitStatus(binPath('member'), [], env)).toBe(expected);
  });
});

async function quotaGauge(command: string): Promise<string | undefined> {
  const cluster = await startCluster({ command, size: 1, extraFlags: ['--quota-backend-bytes=-1'], startTimeoutMs: 60_000 });
  try {
    const text = await (await fetch(`${cluster.members[0]!.clientUrl}/metrics`)).text();
    return /^etcd_server_quota_backend_bytes (\S+)$/m.exec(text)?.[1];
  } finally {
    await cluster.destroy();
  }
}

test('a negative quota is reported as configured (etcd disables the quota)', async () => {
  const expected = await quotaGauge('etcd');
  expect(expected).toBe('-1');
  expect(await quotaGauge(binPath('member'))).toBe(expected);
});
