/**
 * Test support for the e2e tests: the servers a scenario runs against.
 *  - `etcd`: real etcd 3.4, the referee;
 *  - `bridge`: Keel's Election/Lock services and JSON gateway in this process, over real etcd's
 *    KV/Lease/Watch (forwarded), so real clients exercise this code before bin/member wires it;
 *  - `keel`: bin/member, once its composition root registers the services (see `keelWires`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { etcdserverpb, v3electionpb, v3lockpb } from '@keel/proto';
// Test-only use of the workspace test harness (a tool project).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { binPath, startCluster, type Cluster } from '@keel/harness';
import { GrpcServer, listenShared, type SharedListener } from '../../rpc';
import { backendFromHandlers, electionHandlers, lockHandlers } from '..';
import { createJsonGateway, type GatewayService } from '../../jsongw';
import { connect, forwardingHandlers } from './grpc-forward';

export interface Target {
  readonly name: string;
  /** "127.0.0.1:port" for gRPC clients and etcdctl. */
  readonly endpoint: string;
  /** "http://127.0.0.1:port" for the JSON gateway. */
  readonly url: string;
  close(): Promise<void>;
}

const MEMBER_SRC = path.resolve(__dirname, '../..');

/** The member's composition root: main.ts and src/server/. */
function compositionSources(): string[] {
  const serverDir = path.join(MEMBER_SRC, 'server');
  const server = fs.existsSync(serverDir)
    ? fs.readdirSync(serverDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => path.join(serverDir, f))
    : [];
  return [path.join(MEMBER_SRC, 'main.ts'), ...server];
}

/** True once the member's composition root calls `marker` (e.g. "lockHandlers(", "createJsonGateway("). */
export function keelWires(marker: string): boolean {
  return compositionSources().some((file) => fs.existsSync(file) && fs.readFileSync(file, 'utf8').includes(marker));
}

/** Waits until the member answers /health with a leader (bin/member starts before it elects one). */
async function waitHealthy(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`${url} did not become healthy`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function fromCluster(name: string, cluster: Cluster): Target {
  return {
    name,
    endpoint: cluster.endpoints[0]!,
    url: cluster.members[0]!.clientUrl,
    close: () => cluster.destroy(),
  };
}

export async function startEtcd(): Promise<Target> {
  const target = fromCluster('etcd', await startCluster({ command: 'etcd', size: 1 }));
  await waitHealthy(target.url);
  return target;
}

export async function startKeel(): Promise<Target> {
  const cluster = await startCluster({
    command: binPath('member'),
    size: 1,
    extraFlags: ['--heartbeat-interval=50', '--election-timeout=500', '--log-level=warn'],
    startTimeoutMs: 60_000,
  });
  const target = fromCluster('keel', cluster);
  await waitHealthy(target.url);
  return target;
}

/** Keel's services in this process, in front of a fresh real etcd. */
export async function startBridge(): Promise<Target> {
  const etcd = await startEtcd();
  const client = connect(etcd.endpoint);
  const kv = forwardingHandlers(etcdserverpb.KVService, client);
  const lease = forwardingHandlers(etcdserverpb.LeaseService, client);
  const watch = forwardingHandlers(etcdserverpb.WatchService, client);
  const backend = backendFromHandlers({ kv, lease, watch });
  const services: GatewayService[] = [
    { service: etcdserverpb.KVService, handlers: kv },
    { service: etcdserverpb.LeaseService, handlers: lease },
    { service: etcdserverpb.WatchService, handlers: watch },
    { service: etcdserverpb.ClusterService, handlers: forwardingHandlers(etcdserverpb.ClusterService, client) },
    { service: etcdserverpb.MaintenanceService, handlers: forwardingHandlers(etcdserverpb.MaintenanceService, client) },
    { service: v3electionpb.ElectionService, handlers: electionHandlers({ backend }) },
    { service: v3lockpb.LockService, handlers: lockHandlers({ backend }) },
  ];
  const grpc = new GrpcServer({ maxReceiveMessageBytes: 4 * 1024 * 1024 });
  for (const { service, handlers } of services) grpc.addService(service, handlers);
  const gateway = createJsonGateway(services);
  const listener: SharedListener = await listenShared({
    url: 'http://127.0.0.1:0',
    grpc,
    http1: (req, res) => {
      if (gateway(req, res)) return;
      res.writeHead(404);
      res.end();
    },
  });
  return {
    name: 'bridge',
    endpoint: `127.0.0.1:${listener.port}`,
    url: `http://127.0.0.1:${listener.port}`,
    async close() {
      await grpc.close(200);
      await listener.close();
      client.close();
      await etcd.close();
    },
  };
}
