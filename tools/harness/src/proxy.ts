import fs from 'node:fs';
import net from 'node:net';

/**
 * A TCP proxy that injects network faults between cluster members: it listens on one port
 * and forwards each accepted connection to a target port, unless told to drop or delay.
 *
 * - pass:  bytes flow both ways unchanged.
 * - drop:  existing connections are destroyed; new ones are accepted and blackholed (held open,
 *          everything they send discarded, nothing forwarded), so the dialer sees a silent peer
 *          rather than a quick "connection refused" — the way a real partition looks.
 * - delay: every chunk, in both directions, is delivered `delayMs` later, in order.
 *
 * Connections can also be blocked by source: `identifySource` names the dialer of each accepted
 * connection (say, which member process opened it) and `blockSource(tag)` treats that dialer's
 * connections as in drop mode, whatever the proxy's mode.
 */
export type ProxyMode = { kind: 'pass' } | { kind: 'drop' } | { kind: 'delay'; delayMs: number };

export interface FaultProxyOptions {
  listenPort: number;
  targetPort: number;
  /** Address to listen on and to dial; 127.0.0.1 by default. */
  host?: string;
  /** Names who opened an accepted connection; undefined when unknown (never blocked by source). */
  identifySource?: (socket: net.Socket) => Promise<string | undefined>;
  /** Live connections (forwarded or blackholed) beyond which new ones are closed at once. */
  connectionsMax?: number;
  /** Bytes a delayed direction may hold before its sender is paused. */
  delayQueueBytesMax?: number;
}

export interface FaultProxy {
  readonly listenPort: number;
  readonly targetPort: number;
  mode(): ProxyMode;
  setMode(mode: ProxyMode): void;
  blockSource(tag: string): void;
  unblockSource(tag: string): void;
  /** Connections currently forwarded (not blackholed). */
  forwardedCount(): number;
  close(): Promise<void>;
}

interface Connection {
  client: net.Socket;
  target: net.Socket | undefined;
  source: string | undefined;
  blackholed: boolean;
}

/** Delivers chunks to `sink` in arrival order, each no earlier than its due time. */
class DelayedPipe {
  private readonly queue: { dueAt: number; chunk: Buffer }[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly source: net.Socket,
    private readonly sink: net.Socket,
    private readonly bytesMax: number,
  ) {}

  push(chunk: Buffer, delayMs: number): void {
    this.queue.push({ dueAt: Date.now() + delayMs, chunk });
    this.queuedBytes += chunk.length;
    if (this.queuedBytes > this.bytesMax) this.source.pause();
    this.schedule();
  }

  /** True while chunks wait, so later ones must queue behind them to keep the byte order. */
  pending(): boolean {
    return this.queue.length > 0;
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }

  private schedule(): void {
    const head = this.queue[0];
    if (head === undefined || this.timer !== undefined) return;
    this.timer = setTimeout(() => this.flush(), Math.max(0, head.dueAt - Date.now()));
  }

  private flush(): void {
    this.timer = undefined;
    const now = Date.now();
    while (this.queue.length > 0 && this.queue[0]!.dueAt <= now) {
      const { chunk } = this.queue.shift()!;
      this.queuedBytes -= chunk.length;
      if (!this.sink.destroyed) this.sink.write(chunk);
    }
    if (this.queuedBytes <= this.bytesMax && this.source.isPaused()) this.source.resume();
    this.schedule();
  }
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const host = options.host ?? '127.0.0.1';
  const connectionsMax = options.connectionsMax ?? 256;
  const delayQueueBytesMax = options.delayQueueBytesMax ?? 16 * 1024 * 1024;
  const connections = new Set<Connection>();
  const blockedSources = new Set<string>();
  let currentMode: ProxyMode = { kind: 'pass' };

  const isBlocked = (conn: Connection) =>
    currentMode.kind === 'drop' || (conn.source !== undefined && blockedSources.has(conn.source));

  const destroy = (conn: Connection) => {
    conn.client.destroy();
    conn.target?.destroy();
    connections.delete(conn);
  };

  const blackhole = (conn: Connection) => {
    conn.blackholed = true;
    conn.client.on('data', () => undefined); // read and discard, so the dialer is never stuck on a full window
    conn.client.resume();
  };

  const forward = (conn: Connection) => {
    const target = net.connect(options.targetPort, host);
    conn.target = target;
    const toTarget = new DelayedPipe(conn.client, target, delayQueueBytesMax);
    const toClient = new DelayedPipe(target, conn.client, delayQueueBytesMax);
    const relay = (pipe: DelayedPipe, sink: net.Socket) => (chunk: Buffer) => {
      if (currentMode.kind === 'delay') pipe.push(chunk, currentMode.delayMs);
      else if (pipe.pending()) pipe.push(chunk, 0);
      else if (!isBlocked(conn)) sink.write(chunk);
    };
    conn.client.on('data', relay(toTarget, target));
    target.on('data', relay(toClient, conn.client));
    const end = () => {
      toTarget.stop();
      toClient.stop();
      destroy(conn);
    };
    target.on('error', end);
    target.on('close', end);
    conn.client.on('close', end);
    conn.client.resume();
  };

  const admit = async (client: net.Socket) => {
    client.pause(); // nothing is read until we know where this connection goes
    client.on('error', () => client.destroy());
    if (connections.size >= connectionsMax) {
      client.destroy();
      return;
    }
    const conn: Connection = { client, target: undefined, source: undefined, blackholed: false };
    connections.add(conn);
    client.on('close', () => connections.delete(conn));
    conn.source = options.identifySource ? await options.identifySource(client).catch(() => undefined) : undefined;
    if (client.destroyed) return;
    if (isBlocked(conn)) blackhole(conn);
    else forward(conn);
  };

  /** Applies the current mode and blocks to live connections: cut what is now blocked, release blackholes that are not. */
  const reconcile = () => {
    for (const conn of [...connections]) {
      const blocked = isBlocked(conn);
      // A blackholed connection is closed when it is unblocked so the dialer reconnects through a forwarded one.
      if (blocked !== conn.blackholed) destroy(conn);
    }
  };

  const server = net.createServer((client) => void admit(client));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listenPort, host, () => resolve());
  });

  return {
    listenPort: options.listenPort,
    targetPort: options.targetPort,
    mode: () => currentMode,
    setMode(mode) {
      if (mode.kind === 'delay' && !(mode.delayMs >= 0)) throw new Error(`delay must be >= 0 ms, got ${mode.delayMs}`);
      currentMode = mode;
      reconcile();
    },
    blockSource(tag) {
      blockedSources.add(tag);
      reconcile();
    },
    unblockSource(tag) {
      blockedSources.delete(tag);
      reconcile();
    },
    forwardedCount: () => [...connections].filter((c) => !c.blackholed && c.target !== undefined).length,
    async close() {
      for (const conn of [...connections]) destroy(conn);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** "0100007F:1F90" (as in /proc/net/tcp) → { ip: "127.0.0.1", port: 8080 }. Linux, little-endian IPv4. */
function parseProcAddress(text: string): { ip: string; port: number } {
  const [ipHex, portHex] = text.split(':') as [string, string];
  const octets = [6, 4, 2, 0].map((i) => parseInt(ipHex.slice(i, i + 2), 16));
  return { ip: octets.join('.'), port: parseInt(portHex, 16) };
}

/** The socket inode of the dialer's end of an accepted IPv4 connection, from /proc/net/tcp. */
function dialerSocketInode(socket: net.Socket): string | undefined {
  const lines = fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1);
  for (const line of lines) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const local = parseProcAddress(fields[1]!);
    const remote = parseProcAddress(fields[2]!);
    // The dialer's row has the accepted socket's remote end as its local end, and vice versa.
    if (local.port === socket.remotePort && remote.port === socket.localPort && local.ip === socket.remoteAddress) {
      return fields[9];
    }
  }
  return undefined;
}

/**
 * Which of `pids` opened the connection `socket` was accepted from (Linux only: it matches the
 * dialer's socket inode in /proc/net/tcp against each process's open file descriptors). Works
 * for any peer protocol, which is why partitions use it rather than sniffing request headers.
 */
export function dialerPid(socket: net.Socket, pids: number[]): number | undefined {
  const inode = dialerSocketInode(socket);
  if (inode === undefined || inode === '0') return undefined;
  const wanted = `socket:[${inode}]`;
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // the process has exited
    }
    for (const fd of fds) {
      try {
        if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === wanted) return pid;
      } catch {
        // the descriptor closed while we looked
      }
    }
  }
  return undefined;
}
