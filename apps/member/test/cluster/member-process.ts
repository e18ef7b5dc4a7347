// Starts one etcd-flag-compatible member process (real etcd or bin/member) with explicit
// ports, for the cluster shapes @keel/harness's startCluster does not cover: a member joining
// an existing cluster, and members whose advertised peer URL is a fault-injecting proxy.
// Test-only use of the workspace test harness (a tool project).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { startProcess, waitForPort, type ManagedProcess } from '@keel/harness';

export interface MemberSpec {
  command: string;
  name: string;
  dataDir: string;
  clientPort: number;
  /** Port the member listens on for peers. */
  listenPeerPort: number;
  /** Port other members are told to dial (a proxy's, or listenPeerPort itself). */
  advertisePeerPort: number;
  initialCluster: string;
  initialClusterState: 'new' | 'existing';
  token: string;
  extraFlags: string[];
}

export function memberFlags(spec: MemberSpec): string[] {
  const clientUrl = `http://127.0.0.1:${spec.clientPort}`;
  return [
    '--name', spec.name,
    '--data-dir', spec.dataDir,
    '--listen-client-urls', clientUrl,
    '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', `http://127.0.0.1:${spec.listenPeerPort}`,
    '--initial-advertise-peer-urls', `http://127.0.0.1:${spec.advertisePeerPort}`,
    '--initial-cluster', spec.initialCluster,
    '--initial-cluster-state', spec.initialClusterState,
    '--initial-cluster-token', spec.token,
    ...spec.extraFlags,
  ];
}

/**
 * Launches the member and waits until its client port accepts connections. `onSpawn` sees the
 * process before then (a proxy must know its pid before it dials anyone).
 */
export async function launchMember(
  spec: MemberSpec,
  onSpawn: (process: ManagedProcess) => void = () => undefined,
  startTimeoutMs = 60_000,
): Promise<ManagedProcess> {
  const process = startProcess(spec.command, memberFlags(spec));
  onSpawn(process);
  try {
    const exitedEarly = process.exited.then((code) => {
      throw new Error(`exited (${code}) before listening`);
    });
    await Promise.race([waitForPort(spec.clientPort, startTimeoutMs), exitedEarly]);
  } catch (err) {
    await process.kill('SIGKILL');
    throw new Error(`${spec.name} did not start: ${(err as Error).message}\n${process.output().slice(-4000)}`);
  }
  return process;
}
