import path from 'node:path';
import { freePorts, waitForPort } from './ports';
import { makeTempDir, removeTempDir } from './tempdir';
import { startProcess, type ManagedProcess } from './processes';

/**
 * Starts a cluster of etcd-flag-compatible members on 127.0.0.1 — real etcd or Keel's
 * bin/member, with exactly the same flags — each with its own data dir under one temp dir.
 */
export interface ClusterOptions {
  /** Executable: "etcd" for the real one, or binPath('member'). */
  command: string;
  size: number;
  /** Extra flags given to every member, e.g. ['--snapshot-count', '1000']. */
  extraFlags?: string[];
  token?: string;
  startTimeoutMs?: number;
}

export interface ClusterMember {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  clientUrl: string;
  peerUrl: string;
  process: ManagedProcess | undefined;
}

export interface Cluster {
  members: ClusterMember[];
  /** "127.0.0.1:port" per member, for --endpoints. */
  endpoints: string[];
  /** Kills a member (SIGKILL by default), keeping its data dir. */
  stopMember(index: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped member again on the same ports and data dir. */
  restartMember(index: number): Promise<void>;
  /** Kills every member and removes the data. */
  destroy(): Promise<void>;
}

function memberFlags(member: ClusterMember, initialCluster: string, options: ClusterOptions): string[] {
  return [
    '--name', member.name,
    '--data-dir', member.dataDir,
    '--listen-client-urls', member.clientUrl,
    '--advertise-client-urls', member.clientUrl,
    '--listen-peer-urls', member.peerUrl,
    '--initial-advertise-peer-urls', member.peerUrl,
    '--initial-cluster', initialCluster,
    '--initial-cluster-state', 'new',
    '--initial-cluster-token', options.token ?? 'keel-test-cluster',
    ...(options.extraFlags ?? []),
  ];
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const root = makeTempDir('keel-cluster-');
  const ports = await freePorts(options.size * 2);
  const members: ClusterMember[] = Array.from({ length: options.size }, (_, i) => {
    const clientPort = ports[2 * i]!;
    const peerPort = ports[2 * i + 1]!;
    return {
      name: `m${i + 1}`,
      clientPort,
      peerPort,
      dataDir: path.join(root, `m${i + 1}.etcd`),
      clientUrl: `http://127.0.0.1:${clientPort}`,
      peerUrl: `http://127.0.0.1:${peerPort}`,
      process: undefined,
    };
  });
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  const launch = async (member: ClusterMember) => {
    member.process = startProcess(options.command, memberFlags(member, initialCluster, options));
    try {
      await waitForPort(member.clientPort, options.startTimeoutMs ?? 30000);
    } catch (err) {
      throw new Error(`${member.name} did not start: ${(err as Error).message}\n${member.process.output().slice(-4000)}`);
    }
  };
  const cluster: Cluster = {
    members,
    endpoints: members.map((m) => `127.0.0.1:${m.clientPort}`),
    async stopMember(index, signal = 'SIGKILL') {
      const member = members[index]!;
      await member.process?.kill(signal);
      member.process = undefined;
    },
    async restartMember(index) {
      await launch(members[index]!);
    },
    async destroy() {
      await Promise.all(members.map((m) => m.process?.kill('SIGKILL')));
      removeTempDir(root);
    },
  };
  try {
    await Promise.all(members.map(launch));
  } catch (err) {
    await cluster.destroy();
    throw err;
  }
  return cluster;
}
