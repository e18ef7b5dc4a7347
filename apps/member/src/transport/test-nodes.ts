// Test support for the peer transport's tests: real transports on free 127.0.0.1 ports,
// recording what each receives and logs.
import net from 'node:net';
import pino from 'pino';
import { PeerTransport } from './transport';
import type { PeerTransportOptions, UnreachableReason } from './types';

export interface Node {
  transport: PeerTransport;
  /** The bound peer URL. */
  url: string;
  port: number;
  received: { from: bigint; batch: string[] }[];
  logs: string[];
  unreachable: { peer: bigint; reason: UnreachableReason }[];
  snapshots: { from: bigint; meta: string; data: Buffer; chunks: number }[];
}

/** Every transport started by `startNode`; `stopAllNodes` in afterEach stops them. */
const started: PeerTransport[] = [];

export async function stopAllNodes(): Promise<void> {
  await Promise.all(started.splice(0).map((t) => t.stop()));
}

export async function startNode(
  selfId: bigint,
  port = 0,
  overrides: Partial<PeerTransportOptions> = {},
  scheme: 'http' | 'https' = 'http',
): Promise<Node> {
  const logs: string[] = [];
  const node: Node = { transport: undefined as never, url: '', port: 0, received: [], logs, unreachable: [], snapshots: [] };
  const logger = pino({ level: 'debug' }, { write: (line: string) => logs.push(line) });
  node.transport = new PeerTransport({
    selfId,
    clusterId: 0xc1n,
    listenUrls: [`${scheme}://127.0.0.1:${port}`],
    logger,
    onMessages: (from, messages) => node.received.push({ from, batch: messages.map((m) => m.toString()) }),
    onSnapshot: async (from, meta, data) => {
      const parts: Buffer[] = [];
      for await (const chunk of data) parts.push(chunk);
      node.snapshots.push({ from, meta: meta.toString(), data: Buffer.concat(parts), chunks: parts.length });
    },
    limits: { backoffMinMs: 20, backoffMaxMs: 200, pingIntervalMs: 200, idleTimeoutMs: 2000 },
    ...overrides,
  });
  node.transport.onUnreachable((peer, reason) => node.unreachable.push({ peer, reason }));
  await node.transport.start();
  started.push(node.transport);
  node.port = node.transport.boundPorts()[0]!;
  node.url = `${scheme}://127.0.0.1:${node.port}`;
  return node;
}

/** A port nothing listens on (bound, then released). */
export async function unusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export const delivered = (node: Node): string[] => node.received.flatMap((r) => r.batch);

export async function waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
