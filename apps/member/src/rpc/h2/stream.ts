/**
 * One HTTP/2 stream of the lean server, seen from the call (see call.ts `CallStream`) and from
 * the connection that moves its bytes.
 *
 * Lifecycle (RFC 9113 §5.1, server side): open when the request HEADERS arrive; `remoteEnded`
 * once the client sent END_STREAM; `localEnded` once our END_STREAM (trailers) is queued;
 * `closed` when both are, or on RST_STREAM either way, or when the connection dies.
 * Invariant: once closed, the stream queues nothing and calls no listener except the one
 * abort listener, at most once.
 */
import type { CallStream } from '../call';
import type { ReceiveWindow, SendWindow } from './flow-window';

/** Queued response bytes above which `write()` asks the handler to wait for drain. */
export const STREAM_HIGH_WATER_BYTES = 64 * 1024;

/** The connection services a stream needs. */
export interface StreamOwner {
  readonly peer: string;
  /** Moves whatever the stream may send now (headers, DATA within the windows, trailers). */
  pump(stream: H2ServerStream): void;
  /** True while the socket is backed up (writes should wait for drain). */
  readonly congested: boolean;
  /** Sends a headers-only response that ends the stream (trailers-only or an HTTP error). */
  respondAndEnd(stream: H2ServerStream, headers: [string, string][]): void;
}

/** A gRPC status to send as trailers once the queued DATA is out. */
export interface PendingStatus {
  readonly code: number;
  readonly message: string | undefined;
}

export class H2ServerStream implements CallStream {
  headersSent = false;
  /** The client's END_STREAM was received (it may not have been delivered to the call yet). */
  remoteEnded = false;
  private endDelivered = false;
  localEnded = false;
  closed = false;
  /** Response DATA not yet framed: `queue[0]` from `queueOffset` on, then the rest. */
  readonly queue: Buffer[] = [];
  queueOffset = 0;
  queuedBytes = 0;
  trailers: PendingStatus | undefined;
  private needDrain = false;
  private dataListener: ((chunk: Buffer) => void) | undefined;
  private endListener: (() => void) | undefined;
  private abortListener: (() => void) | undefined;
  private drainListeners: (() => void)[] = [];

  constructor(
    readonly id: number,
    private readonly owner: StreamOwner,
    readonly sendWindow: SendWindow,
    readonly receiveWindow: ReceiveWindow,
  ) {}

  get peer(): string {
    return this.owner.peer;
  }

  read(onData: (chunk: Buffer) => void, onEnd: () => void): void {
    this.dataListener = onData;
    this.endListener = onEnd;
  }

  onAbort(listener: () => void): void {
    this.abortListener = listener;
  }

  write(frame: Buffer): boolean {
    if (this.closed || this.localEnded) return false;
    this.enqueue(frame);
    this.owner.pump(this);
    const ok = this.queuedBytes < STREAM_HIGH_WATER_BYTES && !this.owner.congested;
    if (!ok) this.needDrain = true;
    return ok;
  }

  onDrain(listener: () => void): void {
    this.drainListeners.push(listener);
  }

  end(lastFrame: Buffer | undefined, code: number, message: string | undefined): void {
    if (this.closed || this.localEnded) return;
    if (!this.headersSent && lastFrame === undefined && code !== 0) {
      const headers: [string, string][] = [[':status', '200'], ['content-type', 'application/grpc'], ['grpc-status', String(code)]];
      if (message !== undefined) headers.push(['grpc-message', message]);
      this.owner.respondAndEnd(this, headers);
      return;
    }
    if (lastFrame !== undefined) this.enqueue(lastFrame);
    this.trailers = { code, message };
    this.owner.pump(this);
  }

  refuse(httpStatus: number): void {
    if (this.closed || this.localEnded || this.headersSent) return;
    this.owner.respondAndEnd(this, [[':status', String(httpStatus)]]);
  }

  /** Request bytes from a DATA frame (padding removed). */
  deliverData(chunk: Buffer): void {
    if (this.closed || chunk.length === 0) return;
    this.dataListener?.(chunk);
  }

  /** Delivers the client's END_STREAM to the call (once; `remoteEnded` may have been set earlier). */
  deliverEnd(): void {
    this.remoteEnded = true;
    if (this.endDelivered) return;
    this.endDelivered = true;
    if (!this.closed) this.endListener?.();
  }

  /** RST_STREAM either way, or the connection died: the call is cancelled if still running. */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.drainListeners = [];
    if (!this.localEnded) this.abortListener?.();
  }

  /** Called by the connection after it framed queued data; fires drain when the handler may write again. */
  maybeDrained(): void {
    if (!this.needDrain || this.closed) return;
    if (this.queuedBytes >= STREAM_HIGH_WATER_BYTES || this.owner.congested) return;
    this.needDrain = false;
    for (const listener of this.drainListeners) listener();
  }

  private enqueue(frame: Buffer): void {
    this.queue.push(frame);
    this.queuedBytes += frame.length;
  }
}
