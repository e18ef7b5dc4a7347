/**
 * Peer transport between members. One outgoing connection per peer carries this member's
 * raft messages to it (so each pair of members has one stream per direction); snapshots go
 * on separate short-lived connections. The wire format is in PROTOCOL.md.
 *
 * The transport moves opaque bytes: callers encode and decode raft messages themselves.
 */
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { formatId } from '../ids';
import { bindAddress } from '../rpc/listener';
import { isRemovalVerdict } from './removal';
import { PeerSender, type SenderContext } from './sender';
import { SnapshotReceiver, sendSnapshotTo } from './snapshot';
import {
  DEFAULT_LIMITS,
  type PeerStats,
  type PeerTransportLimits,
  type PeerTransportOptions,
  type UnreachableListener,
  type UnreachableReason,
} from './types';
import {
  ConnectionKind,
  type Frame,
  FrameReader,
  FrameType,
  type Hello,
  HelloStatus,
  type HelloStatusCode,
  PEER_MAGIC,
  PROTOCOL_VERSION,
  decodeBatch,
  decodeHello,
  encodeFrame,
  encodeHelloAck,
} from './wire';

const HANDSHAKE_TIMEOUT_MS = 5000;

export class PeerTransport {
  private readonly limits: PeerTransportLimits;
  private readonly logger: Logger;
  private readonly senders = new Map<bigint, PeerSender>();
  private readonly peerUrls = new Map<bigint, readonly string[]>();
  private readonly removed = new Set<bigint>();
  private readonly unreachableListeners: UnreachableListener[] = [];
  private readonly servers: net.Server[] = [];
  private readonly inbound = new Set<net.Socket>();
  /** Accepted message streams by the member that dialled them (closed when it is removed). */
  private readonly inboundStreams = new Map<bigint, Set<net.Socket>>();
  /** Set once a peer has told this member it was removed from the cluster. */
  private removedFromCluster = false;
  private readonly http1: http.Server | undefined;
  private clusterIdValue: bigint;
  private started = false;
  private stopped = false;

  constructor(private readonly options: PeerTransportOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...(options.limits ?? {}) };
    this.logger = options.logger;
    this.clusterIdValue = options.clusterId;
    this.http1 = options.http1 ? http.createServer({ keepAlive: true }, options.http1) : undefined;
  }

  /** Binds every listen URL. Rejects (binding none) if any cannot be bound. */
  async start(): Promise<void> {
    if (this.started) throw new Error('PeerTransport already started');
    this.started = true;
    try {
      for (const url of this.options.listenUrls) this.servers.push(await this.listen(url));
    } catch (err) {
      await this.closeServers();
      throw err;
    }
  }

  /** The ports actually bound, in listenUrls order (useful with port 0). */
  boundPorts(): number[] {
    return this.servers.map((server) => (server.address() as net.AddressInfo).port);
  }

  setClusterId(clusterId: bigint): void {
    this.clusterIdValue = clusterId;
  }

  /** Starts connecting to a peer. Adding a known peer updates its URLs. */
  addPeer(id: bigint, urls: readonly string[]): void {
    this.assertRunning();
    if (id === this.options.selfId) throw new Error('cannot add self as a peer');
    this.removed.delete(id);
    const existing = this.senders.get(id);
    if (existing !== undefined) {
      existing.updateUrls(urls);
    } else {
      this.senders.set(id, new PeerSender(id, urls, this.senderContext()));
    }
    this.peerUrls.set(id, [...urls]);
  }

  /**
   * Forgets a peer: its queue is dropped and its connections closed, both ways, so a removed
   * member redials, hears why it is refused and stops. Its dials are refused from then on
   * (unless `isRemoved` is given: that alone then decides).
   */
  removePeer(id: bigint): void {
    this.senders.get(id)?.stop();
    this.senders.delete(id);
    this.peerUrls.delete(id);
    this.removed.add(id);
    for (const socket of this.inboundStreams.get(id) ?? []) socket.destroy();
  }

  /** New peer URLs; used from the next (re)connection on. */
  updatePeer(id: bigint, urls: readonly string[]): void {
    const sender = this.senders.get(id);
    if (sender === undefined) throw new Error(`unknown peer ${formatId(id)}`);
    sender.updateUrls(urls);
    this.peerUrls.set(id, [...urls]);
  }

  /** Writes every peer's queued messages now (a Ready's worth, say) instead of at the end of the run. */
  flushQueued(): void {
    for (const sender of this.senders.values()) sender.flushQueued();
  }

  /**
   * Queues one encoded raft message for `to`; messages queued in the same synchronous run leave
   * in one batch (at the end of the run, or at flushQueued()). Returns false if it was dropped
   * (unknown peer or full queue — unreachable is reported).
   */
  send(to: bigint, message: Uint8Array): boolean {
    const sender = this.senders.get(to);
    if (sender === undefined) {
      this.logger.debug({ peer: formatId(to) }, 'dropping message to unknown peer');
      return false;
    }
    return sender.enqueue(message);
  }

  /** Streams a snapshot to `to` on a fresh connection; settles with the peer's verdict. */
  async sendSnapshot(to: bigint, meta: Uint8Array, data: Uint8Array | AsyncIterable<Uint8Array>): Promise<void> {
    const urls = this.peerUrls.get(to);
    if (urls === undefined || urls.length === 0) throw new Error(`unknown peer ${formatId(to)}`);
    const started = Date.now();
    // The body may be a one-shot stream, so only the first reachable URL gets it: try URLs in
    // turn by dialling, and send on the first that answers.
    const url = await this.firstReachableUrl(to, urls);
    const sent = sendSnapshotTo(
      {
        url,
        from: this.options.selfId,
        to,
        clusterId: this.clusterIdValue,
        dialTimeoutMs: this.limits.dialTimeoutMs,
        chunkBytes: this.limits.snapshotChunkBytes,
        ...(this.options.tls?.client ? { tls: this.options.tls.client } : {}),
      },
      meta,
      data,
    );
    // A removed member may still think it leads: the refusal of its snapshot tells it.
    await this.watchForRemoval(to, sent);
    this.logger.info({ peer: formatId(to), url, ms: Date.now() - started }, 'snapshot sent');
  }

  /** The first of the peer's URLs that accepts a TCP connection. */
  private async firstReachableUrl(to: bigint, urls: readonly string[]): Promise<string> {
    if (urls.length === 1) return urls[0]!;
    for (const url of urls) {
      const { host, port } = bindAddress(url);
      const reachable = await new Promise<boolean>((resolve) => {
        const probe = net.connect({ host, port });
        probe.setTimeout(this.limits.dialTimeoutMs, () => probe.destroy());
        probe.once('connect', () => {
          probe.destroy();
          resolve(true);
        });
        probe.once('close', () => resolve(false));
        probe.on('error', () => undefined);
      });
      if (reachable) return url;
    }
    throw new Error(`no URL of peer ${formatId(to)} is reachable (${urls.join(', ')})`);
  }

  /** `cb(peer, reason)` whenever a peer could not be reached (call raft.reportUnreachable). */
  onUnreachable(listener: UnreachableListener): void {
    this.unreachableListeners.push(listener);
  }

  /** Since when (ms since epoch) the stream to `id` has been up; undefined while it is down. */
  activeSince(id: bigint): number | undefined {
    return this.senders.get(id)?.activeSince();
  }

  stats(id: bigint): PeerStats | undefined {
    return this.senders.get(id)?.stats();
  }

  /** Stops dialling, closes every connection and listener. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const sender of this.senders.values()) sender.stop();
    this.senders.clear();
    for (const socket of this.inbound) socket.destroy();
    this.http1?.closeAllConnections();
    await this.closeServers();
  }

  private assertRunning(): void {
    if (this.stopped) throw new Error('PeerTransport stopped');
  }

  private senderContext(): SenderContext {
    return {
      selfId: this.options.selfId,
      clusterId: () => this.clusterIdValue,
      limits: this.limits,
      logger: this.logger,
      metrics: this.options.metrics,
      clientTls: this.options.tls?.client,
      reportUnreachable: (peerId, reason) => this.reportUnreachable(peerId, reason),
      dialRejected: (peerId, err) => this.noticeRemoval(peerId, err),
    };
  }

  private isRemovedMember(id: bigint): boolean {
    return this.options.isRemoved ? this.options.isRemoved(id) : this.removed.has(id);
  }

  /** Passes `work`'s outcome through, acting on a removal verdict on the way. */
  private async watchForRemoval<T>(peerId: bigint, work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (err) {
      this.noticeRemoval(peerId, err);
      throw err;
    }
  }

  /** A failed dial to `peerId`: if it is the peer's verdict that this member was removed, say so once. */
  private noticeRemoval(peerId: bigint, err: unknown): void {
    if (this.removedFromCluster || this.stopped) return;
    if (!isRemovalVerdict(err, { peerId, clusterId: this.clusterIdValue })) return;
    this.removedFromCluster = true;
    try {
      this.options.onRemovedFromCluster?.(peerId);
    } catch (listenerErr) {
      this.logger.error({ err: listenerErr }, 'removal listener threw');
    }
  }

  private reportUnreachable(peerId: bigint, reason: UnreachableReason): void {
    for (const listener of this.unreachableListeners) {
      try {
        listener(peerId, reason);
      } catch (err) {
        this.logger.error({ err }, 'unreachable listener threw');
      }
    }
  }

  private async listen(url: string): Promise<net.Server> {
    const { host, port, secure } = bindAddress(url);
    let server: net.Server;
    if (secure) {
      const serverTls = this.options.tls?.server;
      if (serverTls === undefined) throw new Error(`peer URL ${url}: https needs --peer-cert-file and --peer-key-file`);
      const verify = this.options.tls?.verifyClient;
      const tlsServer = tls.createServer(serverTls, (socket) => {
        const refusal = verify?.(socket);
        if (refusal === undefined) {
          this.accept(socket);
          return;
        }
        this.logger.warn({ remote: socket.remoteAddress }, `rejected peer connection: ${refusal}`);
        socket.destroy();
      });
      tlsServer.on('tlsClientError', (err) => this.logger.warn({ err: err.message, url }, 'peer TLS handshake failed'));
      tlsServer.on('connection', (raw: net.Socket) => this.trackInbound(raw));
      server = tlsServer;
    } else {
      server = net.createServer((socket) => this.accept(socket));
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.logger.error({ err, url }, 'peer listener error'));
    return server;
  }

  private closeServers(): Promise<void> {
    const servers = this.servers.splice(0);
    return Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())))).then(
      () => undefined,
    );
  }

  /** A new inbound connection: peer magic → handshake; anything else → the HTTP/1 handler. */
  private trackInbound(socket: net.Socket): void {
    this.inbound.add(socket);
    socket.once('close', () => this.inbound.delete(socket));
  }

  private accept(socket: net.Socket): void {
    this.trackInbound(socket);
    socket.on('error', () => undefined);
    socket.setNoDelay(true);
    socket.setTimeout(HANDSHAKE_TIMEOUT_MS, () => socket.destroy());
    let head: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const compared = Math.min(head.length, PEER_MAGIC.length);
      const isPeer = head.subarray(0, compared).equals(PEER_MAGIC.subarray(0, compared));
      if (isPeer && head.length < PEER_MAGIC.length) return;
      socket.off('data', onData);
      if (!isPeer) {
        this.handOverToHttp(socket, head);
        return;
      }
      this.serveInbound(socket, head.subarray(PEER_MAGIC.length));
    };
    socket.on('data', onData);
  }

  private handOverToHttp(socket: net.Socket, head: Buffer): void {
    if (this.http1 === undefined) {
      socket.destroy();
      return;
    }
    socket.setTimeout(0);
    socket.pause();
    socket.unshift(head);
    this.http1.emit('connection', socket);
    socket.resume();
  }

  private serveInbound(socket: net.Socket, rest: Buffer): void {
    const reader = new FrameReader();
    let handler: ((frame: Frame) => void) | undefined;
    const onFrames = (frames: Frame[]): void => {
      for (const frame of frames) {
        if (handler !== undefined) {
          handler(frame);
          continue;
        }
        if (frame.type !== FrameType.HELLO) throw new Error(`expected HELLO, got frame type ${frame.type}`);
        handler = this.handshake(socket, decodeHello(frame.payload));
        if (handler === undefined) return;
      }
    };
    const feed = (chunk: Buffer): void => {
      try {
        onFrames(reader.push(chunk));
      } catch (err) {
        this.logger.warn({ err, remote: socket.remoteAddress }, 'peer protocol error; closing connection');
        socket.destroy();
      }
    };
    socket.on('data', feed);
    if (rest.length > 0) feed(rest);
  }

  /** Checks HELLO and answers it. Returns the frame handler for an accepted connection. */
  private handshake(socket: net.Socket, hello: Hello): ((frame: Frame) => void) | undefined {
    const status = this.judge(hello);
    const reason = this.refusalReason(status, hello);
    socket.write(
      encodeHelloAck({ status, responderId: this.options.selfId, clusterId: this.clusterIdValue, reason }),
    );
    if (status !== HelloStatus.OK) {
      this.logger.warn(
        { peer: formatId(hello.from), remote: socket.remoteAddress },
        `refused peer connection: ${reason}`,
      );
      socket.end();
      return undefined;
    }
    socket.setTimeout(0);
    if (hello.kind === ConnectionKind.SNAPSHOT) return this.snapshotHandler(socket, hello.from);
    return this.streamHandler(socket, hello.from);
  }

  private judge(hello: Hello): HelloStatusCode {
    if (hello.version !== PROTOCOL_VERSION) return HelloStatus.BAD_VERSION;
    const local = this.clusterIdValue;
    if (local !== 0n && hello.clusterId !== 0n && hello.clusterId !== local) return HelloStatus.CLUSTER_MISMATCH;
    if (hello.to !== this.options.selfId) return HelloStatus.WRONG_MEMBER;
    if (this.isRemovedMember(hello.from)) return HelloStatus.MEMBER_REMOVED;
    return HelloStatus.OK;
  }

  private refusalReason(status: HelloStatusCode, hello: Hello): string {
    switch (status) {
      case HelloStatus.OK:
        return '';
      case HelloStatus.BAD_VERSION:
        return `unsupported peer protocol version ${hello.version} (this member speaks ${PROTOCOL_VERSION})`;
      case HelloStatus.CLUSTER_MISMATCH:
        return `cluster ID mismatch: peer ${formatId(hello.from)} is in cluster ${formatId(hello.clusterId)}, this member in ${formatId(this.clusterIdValue)}`;
      case HelloStatus.WRONG_MEMBER:
        return `peer ${formatId(hello.from)} wanted member ${formatId(hello.to)}, but this is member ${formatId(this.options.selfId)}`;
      case HelloStatus.MEMBER_REMOVED:
        return `member ${formatId(hello.from)} has been removed from the cluster`;
    }
  }

  private streamHandler(socket: net.Socket, from: bigint): (frame: Frame) => void {
    const label = { From: formatId(from) };
    this.trackStream(from, socket);
    // The dialer pings every pingIntervalMs; silence means it is gone without a FIN.
    socket.setTimeout(this.limits.idleTimeoutMs, () => socket.destroy());
    return (frame) => {
      if (socket.destroyed) return; // the rest of a chunk that arrived with a refused batch
      if (frame.type === FrameType.BATCH) {
        // Raft must never hear from a removed member (a stale vote could disrupt the cluster);
        // closing the stream makes it redial and be told it was removed.
        if (this.isRemovedMember(from)) {
          this.logger.warn({ peer: formatId(from) }, 'dropped messages from a removed member; closing its stream');
          socket.destroy();
          return;
        }
        const messages = decodeBatch(frame.payload);
        this.options.metrics?.peerReceivedBytes.inc(label, frame.payload.length);
        this.options.onMessages(from, messages);
      } else if (frame.type === FrameType.PING) {
        socket.write(encodeFrame(FrameType.PONG, frame.payload));
      } else {
        throw new Error(`unexpected frame type ${frame.type} on a message stream`);
      }
    };
  }

  private trackStream(from: bigint, socket: net.Socket): void {
    let streams = this.inboundStreams.get(from);
    if (streams === undefined) {
      streams = new Set();
      this.inboundStreams.set(from, streams);
    }
    streams.add(socket);
    socket.once('close', () => {
      streams.delete(socket);
      if (streams.size === 0 && this.inboundStreams.get(from) === streams) this.inboundStreams.delete(from);
    });
  }

  private snapshotHandler(socket: net.Socket, from: bigint): (frame: Frame) => void {
    const receiver = new SnapshotReceiver(socket, this.limits.snapshotChunksBuffered, (meta, data) => {
      this.logger.info({ peer: formatId(from) }, 'receiving snapshot');
      return this.options.onSnapshot(from, meta, data);
    });
    return (frame) => receiver.onFrame(frame);
  }
}
