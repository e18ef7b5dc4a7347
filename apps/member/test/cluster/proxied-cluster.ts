// A cluster whose peer traffic all goes through fault-injecting proxies, so a test can cut a
// member off from the others (a network partition) without touching the processes.
//
// Member i listens for peers on its real port but advertises proxy i's port (in
// --initial-advertise-peer-urls and everyone's --initial-cluster), so every connection TO
// member i passes proxy i. Cutting i off must also stop what i sends: which direction a
// message travels on a connection depends on the implementation (etcd's stream readers dial
// the peer and the peer writes to them, so i would still HEAR everyone on connections i
// opened; Keel's streams carry only the dialer's messages, so i would still BE HEARD). To make
// the partition symmetric whatever the protocol, proxy j learns which member process opened
// each connection (dialerPid: /proc socket ownership) and drops those opened by i. So
// isolate(i) = proxy i drops everything + every other proxy drops connections dialled by i.
// Test-only use of the workspace test harness (a tool project).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { dialerPid, freePorts, makeTempDir, removeTempDir, startFaultProxy, type FaultProxy, type ManagedProcess } from '@keel/harness';
import type net from 'node:net';
import path from 'node:path';
import { launchMember, type MemberSpec } from './member-process';

export interface ProxiedClusterOptions {
  command: string;
  size: number;
  extraFlags: string[];
}

export interface ProxiedMember {
  spec: MemberSpec;
  proxy: FaultProxy;
  process: ManagedProcess | undefined;
}

export interface ProxiedCluster {
  members: ProxiedMember[];
  /** "127.0.0.1:port" client endpoints, one per member. */
  endpoints: string[];
  /** Cuts member `index` off from every other member, both directions. */
  isolate(index: number): void;
  heal(index: number): void;
  destroy(): Promise<void>;
}

export async function startProxiedCluster(options: ProxiedClusterOptions): Promise<ProxiedCluster> {
  const root = makeTempDir('keel-proxied-');
  const ports = await freePorts(options.size * 3);
  const names = Array.from({ length: options.size }, (_, i) => `m${i + 1}`);
  const proxyPort = (i: number) => ports[3 * i + 2]!;
  const initialCluster = names.map((n, i) => `${n}=http://127.0.0.1:${proxyPort(i)}`).join(',');
  const members: ProxiedMember[] = [];

  /** Which member's process opened `socket`, by name. */
  const identify = async (socket: net.Socket) => {
    const pids = members.flatMap((m) => (m.process?.child.pid === undefined ? [] : [m.process.child.pid]));
    const pid = dialerPid(socket, pids);
    return members.find((m) => m.process?.child.pid === pid && pid !== undefined)?.spec.name;
  };

  const destroy = async () => {
    await Promise.all(members.map((m) => m.process?.kill('SIGKILL')));
    await Promise.all(members.map((m) => m.proxy.close()));
    removeTempDir(root);
  };

  try {
    for (const [i, name] of names.entries()) {
      const spec: MemberSpec = {
        command: options.command,
        name,
        dataDir: path.join(root, `${name}.etcd`),
        clientPort: ports[3 * i]!,
        listenPeerPort: ports[3 * i + 1]!,
        advertisePeerPort: proxyPort(i),
        initialCluster,
        initialClusterState: 'new',
        token: 'keel-proxied-cluster',
        extraFlags: options.extraFlags,
      };
      const proxy = await startFaultProxy({ listenPort: proxyPort(i), targetPort: spec.listenPeerPort, identifySource: identify });
      members.push({ spec, proxy, process: undefined });
    }
    await Promise.all(
      members.map(async (m) => {
        await launchMember(m.spec, (p) => (m.process = p));
      }),
    );
  } catch (err) {
    await destroy();
    throw err;
  }

  const setCut = (index: number, cut: boolean) => {
    const target = members[index];
    if (target === undefined) throw new Error(`no member ${index}`);
    target.proxy.setMode(cut ? { kind: 'drop' } : { kind: 'pass' });
    for (const other of members) {
      if (other === target) continue;
      if (cut) other.proxy.blockSource(target.spec.name);
      else other.proxy.unblockSource(target.spec.name);
    }
  };

  return {
    members,
    endpoints: members.map((m) => `127.0.0.1:${m.spec.clientPort}`),
    isolate: (index) => setCut(index, true),
    heal: (index) => setCut(index, false),
    destroy,
  };
}
