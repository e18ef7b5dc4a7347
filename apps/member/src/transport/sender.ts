/**
 * The outgoing half of one peer pair: a bounded FIFO of encoded raft messages and the one
 * long-lived connection that carries them, re-dialled with exponential backoff.
 *
 * Invariants: queuedBytes == sum of queue[i].length; queue.length <= queueMessagesMax;
 * at most one dial is in flight; `socket` is set only while a handshaken connection is open.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import type { Logger } from 'pino';
import { formatId } from '../ids';
import type { MemberMetrics } from '../observability/metrics';
import { HandshakeRefused, describeRefusal, dialPeer } from './dial';
import type { PeerStats, PeerTransportLimits, UnreachableReason } from './types';
import { ConnectionKind, type Frame, type FrameReader, FrameType, encodeBatch, encodeFrame } from './wire';

/** What a sender needs from its transport. */
export interface SenderContext {
  readonly selfId: bigint;
  clusterId(): bigint;
  readonly limits: PeerTransportLimits;
  readonly logger: Logger;
  readonly metrics: MemberMetrics | undefined;
  readonly clientTls: tls.ConnectionOptions | undefined;
  reportUnreachable(peerId: bigint, reason: UnreachableReason): void;
  /** Every failed dial of the stream, so a removal verdict can be acted on (see removal.ts). */
  dialRejected(peerId: bigint, err: Error): void;
}

export class PeerSender {
  private urls: readonly string[];
  private urlIndex = 0;
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private socket: net.Socket | undefined;
  private dialing = false;
  private stopped = false;
  private backoffMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private flushScheduled = false;
  private waitingForDrain = false;
  private reportedQueueFull = false;
  private failuresInARow = 0;
  private connectedAtMs: number | undefined;
  private sent = 0;
  private dropped = 0;

  constructor(
    readonly peerId: bigint,
    urls: readonly string[],
    private readonly ctx: SenderContext,
  ) {
    if (urls.length === 0) throw new Error(`peer ${formatId(peerId)} has no URLs`);
    this.urls = [...urls];
    this.backoffMs = ctx.limits.backoffMinMs;
    this.dial();
  }

  /** Queues one message; false (and the message is dropped) when the queue is full. */
  enqueue(message: Uint8Array): boolean {
    const { queueMessagesMax, queueBytesMax } = this.ctx.limits;
    if (this.queue.length >= queueMessagesMax || this.queuedBytes + message.length > queueBytesMax) {
      this.drop();
      return false;
    }
    this.queue.push(message);
    this.queuedBytes += message.length;
    this.scheduleFlush();
    return true;
  }

  /** Writes what is queued now rather than at the end of the current synchronous run. */
  flushQueued(): void {
    if (this.queue.length > 0) this.flush();
  }

  /** New URLs take effect at the next dial (the current connection is kept). */
  updateUrls(urls: readonly string[]): void {
    if (urls.length === 0) throw new Error(`peer ${formatId(this.peerId)} has no URLs`);
    this.urls = [...urls];
    this.urlIndex = 0;
  }

  /** When the current connection was established (ms since epoch), or undefined when down. */
  activeSince(): number | undefined {
    return this.connectedAtMs;
  }

  stats(): PeerStats {
    return { queuedMessages: this.queue.length, sentMessages: this.sent, droppedMessages: this.dropped, connected: this.socket !== undefined };
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.socket?.destroy();
    this.queue = [];
    this.queuedBytes = 0;
  }

  private drop(): void {
    this.dropped++;
    this.ctx.metrics?.peerSentFailures.inc({ To: formatId(this.peerId) });
    if (this.reportedQueueFull) return;
    // One report and one log line per tick: raft only needs to know once.
    this.reportedQueueFull = true;
    this.ctx.logger.warn(
      { peer: formatId(this.peerId), queued: this.queue.length },
      'dropped raft message: sending queue to peer is full (network overloaded or peer down)',
    );
    this.ctx.reportUnreachable(this.peerId, 'queue-full');
    setImmediate(() => {
      this.reportedQueueFull = false;
    });
    this.scheduleFlush();
  }

  /**
   * Writes once the current synchronous run has queued everything (unless flushQueued() comes
   * first), so messages sent together share one write, without waiting for another event-loop
   * turn: a setImmediate here cost 0.2 ms (median, loaded box) before a follower even saw the
   * leader's MsgApp, and again on every follower acknowledgement.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flushQueued();
    });
  }

  /** Writes queued messages as BATCH frames until the queue is empty or the socket pushes back. */
  private flush(): void {
    const socket = this.socket;
    if (socket === undefined || this.waitingForDrain) return;
    socket.cork();
    let writable = true;
    while (this.queue.length > 0 && writable) {
      const count = this.batchPrefixLength();
      const batch = this.queue.splice(0, count);
      let bytes = 0;
      for (const message of batch) bytes += message.length;
      this.queuedBytes -= bytes;
      for (const part of encodeBatch(batch)) writable = socket.write(part);
      this.sent += count;
      this.ctx.metrics?.peerSentBytes.inc({ To: formatId(this.peerId) }, bytes);
    }
    socket.uncork();
    if (!writable) {
      this.waitingForDrain = true;
      socket.once('drain', () => {
        this.waitingForDrain = false;
        this.flush();
      });
    }
  }

  /** How many queued messages fit one batch (at least one, however big). */
  private batchPrefixLength(): number {
    let bytes = 0;
    let count = 0;
    for (const message of this.queue) {
      if (count > 0 && bytes + message.length > this.ctx.limits.batchBytesMax) break;
      bytes += message.length;
      count++;
    }
    return count;
  }

  private dial(): void {
    if (this.stopped || this.dialing || this.socket !== undefined) return;
    this.dialing = true;
    const url = this.urls[this.urlIndex % this.urls.length]!;
    dialPeer({
      url,
      kind: ConnectionKind.STREAM,
      from: this.ctx.selfId,
      to: this.peerId,
      clusterId: this.ctx.clusterId(),
      timeoutMs: this.ctx.limits.dialTimeoutMs,
      ...(this.ctx.clientTls ? { tls: this.ctx.clientTls } : {}),
    }).then(
      ({ socket, reader, pending }) => {
        this.dialing = false;
        if (this.stopped) socket.destroy();
        else this.connected(socket, reader, pending, url);
      },
      (err: Error) => {
        this.dialing = false;
        this.dialFailed(err, url);
      },
    );
  }

  private connected(socket: net.Socket, reader: FrameReader, pending: Frame[], url: string): void {
    this.socket = socket;
    this.connectedAtMs = Date.now();
    this.backoffMs = this.ctx.limits.backoffMinMs;
    this.failuresInARow = 0;
    this.ctx.metrics?.activePeers.inc(this.peerLabels());
    this.ctx.logger.info({ peer: formatId(this.peerId), url }, 'peer stream established');
    let lastHeardMs = Date.now();
    const onFrames = (frames: Frame[]): void => {
      lastHeardMs = Date.now();
      for (const frame of frames) if (frame.type === FrameType.PONG) this.observeRoundTrip(frame.payload);
    };
    onFrames(pending);
    socket.on('data', (chunk: Buffer) => {
      try {
        onFrames(reader.push(chunk));
      } catch (err) {
        this.ctx.logger.warn({ err, peer: formatId(this.peerId) }, 'bad frame from peer; closing stream');
        socket.destroy();
      }
    });
    socket.on('error', () => undefined);
    socket.once('close', () => this.disconnected(socket));
    socket.resume();
    this.pingTimer = setInterval(() => {
      if (Date.now() - lastHeardMs > this.ctx.limits.idleTimeoutMs) {
        this.ctx.logger.warn({ peer: formatId(this.peerId) }, 'peer stream silent too long; closing it');
        socket.destroy();
        return;
      }
      const stamp = Buffer.alloc(8);
      stamp.writeDoubleBE(performance.now());
      socket.write(encodeFrame(FrameType.PING, stamp));
    }, this.ctx.limits.pingIntervalMs);
    this.flush();
  }

  private disconnected(socket: net.Socket): void {
    if (this.socket !== socket) return;
    clearInterval(this.pingTimer);
    this.socket = undefined;
    this.connectedAtMs = undefined;
    this.waitingForDrain = false;
    this.discardQueue();
    this.ctx.metrics?.activePeers.dec(this.peerLabels());
    this.ctx.metrics?.disconnectedPeers.inc(this.peerLabels());
    if (this.stopped) return;
    this.ctx.logger.warn({ peer: formatId(this.peerId) }, 'peer stream lost');
    this.ctx.reportUnreachable(this.peerId, 'disconnected');
    this.scheduleRetry();
  }

  /**
   * Drops what was queued while the link was down or breaking. By the time a new link is
   * up those messages are stale, and raft resends whatever still matters; delivering them
   * late would, for example, hand the leader a proposal whose client was already told it
   * timed out (etcd drops them too).
   */
  private discardQueue(): void {
    this.queue = [];
    this.queuedBytes = 0;
  }

  private dialFailed(err: Error, url: string): void {
    if (this.stopped) return;
    this.failuresInARow++;
    const refused = err instanceof HandshakeRefused;
    const detail = refused ? describeRefusal(err, this.ctx.clusterId()) : err.message;
    // First failure at warn (and every 50th after), the rest at debug: a down peer must not flood the log.
    const level = this.failuresInARow === 1 || this.failuresInARow % 50 === 0 || refused ? 'warn' : 'debug';
    this.ctx.logger[level]({ peer: formatId(this.peerId), url, attempts: this.failuresInARow }, `cannot reach peer: ${detail}`);
    this.discardQueue();
    this.ctx.reportUnreachable(this.peerId, refused ? 'refused' : 'connect-failed');
    this.ctx.dialRejected(this.peerId, err);
    this.urlIndex++;
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    const jitter = 0.8 + Math.random() * 0.4;
    const delay = Math.round(this.backoffMs * jitter);
    this.backoffMs = Math.min(this.backoffMs * 2, this.ctx.limits.backoffMaxMs);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.dial(), delay);
  }

  private observeRoundTrip(payload: Buffer): void {
    if (payload.length !== 8) return;
    const seconds = (performance.now() - payload.readDoubleBE(0)) / 1000;
    this.ctx.metrics?.peerRoundTripSeconds.observe({ To: formatId(this.peerId) }, seconds);
  }

  private peerLabels(): { Local: string; Remote: string } {
    return { Local: formatId(this.ctx.selfId), Remote: formatId(this.peerId) };
  }
}
