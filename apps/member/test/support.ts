// Helpers for integration tests: start real bin/member processes on free ports in temp dirs
// and drive them with the real etcdctl.
// Test-only use of the workspace test harness (a tool project).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { binPath, freePorts, makeTempDir, runCommand, startProcess, waitForPort, type ManagedProcess } from '@keel/harness';

export interface RunningMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  process: ManagedProcess;
}

export interface MemberOptions {
  name?: string;
  dataDir?: string;
  clientPort?: number;
  peerPort?: number;
  initialCluster?: string;
  initialClusterState?: 'new' | 'existing';
  extraArgs?: string[];
  /** Added to this process's environment for the member. */
  env?: NodeJS.ProcessEnv;
}

export async function startMember(options: MemberOptions = {}): Promise<RunningMember> {
  const name = options.name ?? 'm1';
  const [clientPort, peerPort] =
    options.clientPort && options.peerPort ? [options.clientPort, options.peerPort] : await freePorts(2);
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const dataDir = options.dataDir ?? makeTempDir('keel-member-');
  const args = [
    `--name=${name}`,
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=${options.initialCluster ?? `${name}=${peerUrl}`}`,
    `--initial-cluster-state=${options.initialClusterState ?? 'new'}`,
    '--heartbeat-interval=50',
    '--election-timeout=500',
    ...(options.extraArgs?.some((a) => a.startsWith('--log-level')) ? [] : ['--log-level=warn']),
    ...(options.extraArgs ?? []),
  ];
  const process = startProcess(binPath('member'), args, options.env && { env: { ...globalThis.process.env, ...options.env } });
  try {
    await waitForPort(clientPort!, 60_000);
  } catch (error) {
    throw new Error(`member did not start: ${(error as Error).message}\n${process.output()}`);
  }
  return { name, clientUrl, peerUrl, dataDir, process };
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function etcdctl(endpoints: string | string[], args: string[], input?: string): Promise<CommandResult> {
  const list = Array.isArray(endpoints) ? endpoints.join(',') : endpoints;
  return runCommand('etcdctl', [`--endpoints=${list}`, '--dial-timeout=5s', '--command-timeout=10s', ...args], {
    env: { ...process.env, ETCDCTL_API: '3' },
    input,
    // Without input, give etcdctl no stdin pipe (writing to it after a quick exit is EPIPE).
    ...(input === undefined ? { stdio: ['ignore', 'pipe', 'pipe'] as const } : {}),
    timeoutMs: 30_000,
  });
}

/** Runs etcdctl and fails the test with its output unless it exits 0. */
export async function etcdctlOk(endpoints: string | string[], args: string[], input?: string): Promise<string> {
  const result = await etcdctl(endpoints, args, input);
  if (result.code !== 0) throw new Error(`etcdctl ${args.join(' ')} failed (${result.code}): ${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** Retries `check` until it stops throwing or the time runs out. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 10_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}
