/**
 * The server side of one HTTP/2 connection (RFC 9113), just enough for gRPC and written for
 * its hot path: no per-stream emitters, header objects built once, and every frame queued in a
 * turn leaving in one socket write (FrameWriter).
 *
 * Reading: preface → the client's first SETTINGS → frames, each checked as the RFC asks.
 * A violation that leaves the connection unusable (HPACK state, framing, flow control of the
 * connection) is a ConnectionError: GOAWAY with its code, then the socket closes. A violation
 * confined to a stream resets that stream. Nothing the client sends may throw out of here.
 *
 * Invariants: `streams` holds exactly the streams not closed; `lastPeerStreamId` is the
 * highest stream id the client opened (ids never go back); every header block is decoded in
 * arrival order, even for streams we refuse, so the HPACK tables stay in step.
 */
import type { Duplex } from 'node:stream';
import {
  ErrorCode, Flag, FrameType, HpackDecoder, HpackEncoder, connectionPreface, unpaddedPayload, type HeaderList,
} from '@keel/h2';
import type { Logger } from 'pino';
import type { Metadata } from '../types';
import { ConnectionError, StreamError } from './errors';
import { FrameReader, type FrameSink } from './frame-reader';
import { ReceiveWindow, SendWindow } from './flow-window';
import { requestMetadata } from './request-headers';
import { type LocalSettings, type PeerSettings, defaultPeerSettings, localSettingsFrame, parseSettings } from './settings';
import { H2ServerStream, type StreamOwner } from './stream';
import { FrameWriter } from './writer';
import { OutboundFrames } from './outbound';

export interface H2ConnectionOptions {
  readonly local: LocalSettings;
  /** Starts a call for a new stream; must not throw (a throw resets the stream). */
  readonly dispatch: (stream: H2ServerStream, metadata: Metadata) => void;
  readonly keepaliveIntervalMs: number;
  readonly keepaliveTimeoutMs: number;
  readonly logger?: Logger;
  /** Called once, when the socket has closed. */
  readonly onClose: () => void;
}

/** Control frames (PING/SETTINGS acks) answered while the socket is backed up before we give up on the peer. */
const CONTROL_BYTES_WHILE_CONGESTED_MAX = 1024 * 1024;
/** How long a closing connection waits for the peer to read our GOAWAY before the socket is destroyed. */
const CLOSE_LINGER_MS = 1000;

/** Only fields that repeat across responses go into the HPACK dynamic table. */
const indexResponseField = (name: string): boolean => name !== 'grpc-message';

type Phase = 'preface' | 'settings' | 'open' | 'closed';

export class H2ServerConnection implements FrameSink, StreamOwner {
  readonly peer: string;
  private phase: Phase = 'preface';
  private prefaceBytes: Buffer = Buffer.alloc(0);
  private readonly reader: FrameReader;
  private readonly writer: FrameWriter;
  private readonly out: OutboundFrames;
  private readonly decoder = new HpackDecoder();
  private readonly encoder = new HpackEncoder(indexResponseField);
  private readonly streams = new Map<number, H2ServerStream>();
  private readonly blocked = new Set<H2ServerStream>();
  private readonly peerSettings: PeerSettings = defaultPeerSettings();
  private readonly connectionSend = new SendWindow(65535);
  private readonly connectionReceive: ReceiveWindow;
  private lastPeerStreamId = 0;
  private headerBlock: { streamId: number; endStream: boolean; parts: Buffer[]; bytes: number } | undefined;
  private goingAway = false;
  private peerGoingAway = false;
  private controlBytesWhileCongested = 0;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private pingDeadline: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  constructor(
    private readonly socket: Duplex & { remoteAddress?: string; remotePort?: number },
    head: Buffer,
    private readonly options: H2ConnectionOptions,
  ) {
    this.peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
    this.reader = new FrameReader(this, options.local.maxFrameBytes);
    this.writer = new FrameWriter(socket, () => this.socketDrained());
    this.out = new OutboundFrames(this.writer, this.encoder, this.peerSettings);
    this.connectionReceive = new ReceiveWindow(options.local.connectionWindowBytes);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => {
      options.logger?.debug({ err, peer: this.peer }, 'grpc connection error');
      socket.destroy();
    });
    socket.once('close', () => this.closed());
    this.out.settings(localSettingsFrame(options.local));
    const extraWindow = options.local.connectionWindowBytes - 65535;
    if (extraWindow > 0) this.out.windowUpdate(0, extraWindow);
    this.startKeepalive();
    if (head.length > 0) this.receive(head);
  }

  get congested(): boolean {
    return this.writer.congested;
  }

  /**
   * Graceful shutdown: GOAWAY(NO_ERROR) so the client opens nothing new, in-flight calls
   * finish, then the socket ends; whatever is left after `graceMs` is cut.
   */
  shutdown(graceMs: number): Promise<void> {
    if (this.phase !== 'closed' && !this.goingAway) {
      this.goingAway = true;
      this.out.goAway(this.lastPeerStreamId, ErrorCode.NoError, '');
      this.writer.flush();
      if (this.streams.size === 0) this.endSocket();
      const timer = setTimeout(() => this.socket.destroy(), graceMs);
      timer.unref();
      void this.closedPromise.then(() => clearTimeout(timer));
    }
    return this.closedPromise;
  }

  // ---- reading ----

  private receive(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    try {
      if (this.phase === 'preface') {
        const rest = this.takePreface(chunk);
        if (rest === undefined) return;
        chunk = rest;
      }
      this.reader.push(chunk);
    } catch (err) {
      if (err instanceof ConnectionError) {
        this.options.logger?.debug({ peer: this.peer, code: err.code, err: err.message }, 'HTTP/2 protocol error from client');
        this.fail(err.code, err.message);
      } else {
        this.options.logger?.error({ err, peer: this.peer }, 'HTTP/2 connection failed');
        this.fail(ErrorCode.InternalError, 'internal error');
      }
    }
  }

  /** Returns the bytes after the client preface once it is complete, undefined while incomplete. */
  private takePreface(chunk: Buffer): Buffer | undefined {
    const seen = this.prefaceBytes.length === 0 ? chunk : Buffer.concat([this.prefaceBytes, chunk]);
    const compared = Math.min(seen.length, connectionPreface.length);
    if (!seen.subarray(0, compared).equals(connectionPreface.subarray(0, compared))) {
      throw new ConnectionError(ErrorCode.ProtocolError, 'invalid connection preface');
    }
    if (seen.length < connectionPreface.length) {
      this.prefaceBytes = Buffer.from(seen);
      return undefined;
    }
    this.prefaceBytes = Buffer.alloc(0);
    this.phase = 'settings';
    return seen.subarray(connectionPreface.length);
  }

  onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.phase === 'closed') return;
    if (this.phase === 'settings') {
      if (type !== FrameType.Settings || (flags & Flag.Ack) !== 0) {
        throw new ConnectionError(ErrorCode.ProtocolError, 'the first frame must be SETTINGS');
      }
      this.phase = 'open';
    }
    if (this.headerBlock !== undefined && type !== FrameType.Continuation) {
      throw new ConnectionError(ErrorCode.ProtocolError, 'header block interrupted by another frame');
    }
    try {
      this.dispatchFrame(type, flags, streamId, payload);
    } catch (err) {
      if (!(err instanceof StreamError)) throw err;
      this.resetStream(err.streamId, err.code);
    }
  }

  private dispatchFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    switch (type) {
      case FrameType.Data:
        return this.onData(flags, streamId, payload);
      case FrameType.Headers:
        return this.onHeaders(flags, streamId, payload);
      case FrameType.Continuation:
        return this.onContinuation(flags, streamId, payload);
      case FrameType.Priority:
        if (streamId === 0) throw new ConnectionError(ErrorCode.ProtocolError, 'PRIORITY on stream 0');
        return; // priorities are advisory; we serve streams in arrival order
      case FrameType.RstStream:
        return this.onRstStream(streamId, payload);
      case FrameType.Settings:
        return this.onSettings(flags, streamId, payload);
      case FrameType.PushPromise:
        throw new ConnectionError(ErrorCode.ProtocolError, 'PUSH_PROMISE from a client');
      case FrameType.Ping:
        return this.onPing(flags, streamId, payload);
      case FrameType.GoAway:
        return this.onGoAway(streamId, payload);
      case FrameType.WindowUpdate:
        return this.onWindowUpdate(streamId, payload);
      default:
        return; // unknown frame types are ignored (RFC 9113 §4.1)
    }
  }

  private onHeaders(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.ProtocolError, 'HEADERS on stream 0');
    const fragment = this.unpadded(FrameType.Headers, flags, payload);
    this.headerBlock = { streamId, endStream: (flags & Flag.EndStream) !== 0, parts: [], bytes: 0 };
    this.addFragment(flags, fragment);
  }

  private onContinuation(flags: number, streamId: number, payload: Buffer): void {
    if (this.headerBlock === undefined || this.headerBlock.streamId !== streamId) {
      throw new ConnectionError(ErrorCode.ProtocolError, 'CONTINUATION without a header block in progress');
    }
    this.addFragment(flags, payload);
  }

  private addFragment(flags: number, fragment: Buffer): void {
    const block = this.headerBlock!;
    block.parts.push(fragment);
    block.bytes += fragment.length;
    if (block.bytes > this.options.local.maxHeaderBlockBytes) {
      throw new ConnectionError(ErrorCode.EnhanceYourCalm, `header block larger than ${this.options.local.maxHeaderBlockBytes} bytes`);
    }
    if ((flags & Flag.EndHeaders) === 0) return;
    this.headerBlock = undefined;
    let headers: HeaderList;
    try {
      headers = this.decoder.decode(block.parts.length === 1 ? block.parts[0]! : Buffer.concat(block.parts, block.bytes));
    } catch (err) {
      throw new ConnectionError(ErrorCode.CompressionError, `HPACK: ${(err as Error).message}`);
    }
    this.onHeaderBlock(block.streamId, block.endStream, headers);
  }

  private onHeaderBlock(streamId: number, endStream: boolean, headers: HeaderList): void {
    const existing = this.streams.get(streamId);
    if (existing !== undefined) {
      // Trailers from the client: gRPC sends none, but they are legal if they end the stream.
      if (!endStream || existing.remoteEnded) throw new StreamError(streamId, ErrorCode.ProtocolError, 'unexpected HEADERS');
      existing.deliverEnd();
      return;
    }
    if (streamId % 2 === 0) throw new ConnectionError(ErrorCode.ProtocolError, `client opened even stream ${streamId}`);
    if (streamId <= this.lastPeerStreamId) return; // a stream we already closed; its block was decoded above
    this.lastPeerStreamId = streamId;
    if (this.goingAway || this.streams.size >= this.options.local.maxConcurrentStreams) {
      throw new StreamError(streamId, ErrorCode.RefusedStream, 'stream refused');
    }
    const metadata = requestMetadata(headers);
    if (typeof metadata === 'string') throw new StreamError(streamId, ErrorCode.ProtocolError, metadata);
    const stream = new H2ServerStream(
      streamId,
      this,
      new SendWindow(this.peerSettings.initialWindowBytes),
      new ReceiveWindow(this.options.local.streamWindowBytes),
    );
    this.streams.set(streamId, stream);
    // Known before dispatch, so a response sent at once needs no RST_STREAM after it.
    stream.remoteEnded = endStream;
    this.runCall(stream, () => {
      this.options.dispatch(stream, metadata);
      if (endStream) stream.deliverEnd();
    });
  }

  /** Runs call code (handlers, listeners); a throw resets only that stream. */
  private runCall(stream: H2ServerStream, work: () => void): void {
    try {
      work();
    } catch (err) {
      this.options.logger?.error({ err, peer: this.peer, streamId: stream.id }, 'gRPC call threw');
      throw new StreamError(stream.id, ErrorCode.InternalError, 'call failed');
    }
  }

  private onData(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.ProtocolError, 'DATA on stream 0');
    if (streamId > this.lastPeerStreamId) throw new ConnectionError(ErrorCode.ProtocolError, `DATA on idle stream ${streamId}`);
    if (!this.connectionReceive.receive(payload.length)) {
      throw new ConnectionError(ErrorCode.FlowControlError, 'DATA beyond the connection window');
    }
    const data = this.unpadded(FrameType.Data, flags, payload);
    const stream = this.streams.get(streamId);
    // Whatever happens to the stream, the bytes were taken off the connection window: give them back.
    this.creditConnection(payload.length);
    if (stream === undefined) return; // closed by us; the client had not heard yet
    if (stream.remoteEnded) throw new StreamError(streamId, ErrorCode.StreamClosed, 'DATA after END_STREAM');
    if (!stream.receiveWindow.receive(payload.length)) {
      throw new StreamError(streamId, ErrorCode.FlowControlError, 'DATA beyond the stream window');
    }
    const endStream = (flags & Flag.EndStream) !== 0;
    this.runCall(stream, () => {
      stream.deliverData(data);
      if (endStream) stream.deliverEnd();
    });
    if (endStream || stream.closed) return;
    const increment = stream.receiveWindow.consume(payload.length);
    if (increment > 0) this.out.windowUpdate(streamId, increment);
  }

  private creditConnection(bytes: number): void {
    const increment = this.connectionReceive.consume(bytes);
    if (increment > 0) this.out.windowUpdate(0, increment);
  }

  private onRstStream(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) throw new ConnectionError(ErrorCode.FrameSizeError, 'RST_STREAM length');
    if (streamId === 0 || streamId > this.lastPeerStreamId) {
      throw new ConnectionError(ErrorCode.ProtocolError, `RST_STREAM on ${streamId === 0 ? 'stream 0' : 'an idle stream'}`);
    }
    const stream = this.streams.get(streamId);
    if (stream !== undefined) this.forget(stream);
  }

  private onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new ConnectionError(ErrorCode.ProtocolError, 'SETTINGS on a stream');
    if ((flags & Flag.Ack) !== 0) {
      if (payload.length !== 0) throw new ConnectionError(ErrorCode.FrameSizeError, 'SETTINGS ACK with a payload');
      return;
    }
    for (const change of parseSettings(payload)) {
      if (change.kind === 'headerTable') {
        this.peerSettings.headerTableBytes = change.bytes;
        this.encoder.setPeerTableLimit(change.bytes);
      } else if (change.kind === 'maxFrame') {
        this.peerSettings.maxFrameBytes = change.bytes;
      } else {
        const delta = change.bytes - this.peerSettings.initialWindowBytes;
        this.peerSettings.initialWindowBytes = change.bytes;
        for (const stream of this.streams.values()) {
          if (stream.sendWindow.grow(delta) !== undefined) {
            throw new ConnectionError(ErrorCode.FlowControlError, 'SETTINGS_INITIAL_WINDOW_SIZE overflows a stream window');
          }
        }
      }
    }
    this.checkControlFlood(9);
    this.out.settingsAck();
    this.pumpAll();
  }

  private onPing(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new ConnectionError(ErrorCode.ProtocolError, 'PING on a stream');
    if (payload.length !== 8) throw new ConnectionError(ErrorCode.FrameSizeError, 'PING length');
    if ((flags & Flag.Ack) !== 0) {
      clearTimeout(this.pingDeadline);
      this.pingDeadline = undefined;
      return;
    }
    this.checkControlFlood(17);
    this.out.ping(true, payload);
  }

  private onGoAway(streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new ConnectionError(ErrorCode.ProtocolError, 'GOAWAY on a stream');
    if (payload.length < 8) throw new ConnectionError(ErrorCode.FrameSizeError, 'GOAWAY length');
    this.peerGoingAway = true;
    if (this.streams.size === 0) this.endSocket();
  }

  private onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) throw new ConnectionError(ErrorCode.FrameSizeError, 'WINDOW_UPDATE length');
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    if (streamId === 0) {
      if (increment === 0) throw new ConnectionError(ErrorCode.ProtocolError, 'WINDOW_UPDATE of 0');
      if (this.connectionSend.grow(increment) !== undefined) {
        throw new ConnectionError(ErrorCode.FlowControlError, 'connection window overflow');
      }
      this.pumpAll();
      return;
    }
    if (streamId > this.lastPeerStreamId) throw new ConnectionError(ErrorCode.ProtocolError, 'WINDOW_UPDATE on an idle stream');
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    if (increment === 0) throw new StreamError(streamId, ErrorCode.ProtocolError, 'WINDOW_UPDATE of 0');
    if (stream.sendWindow.grow(increment) !== undefined) {
      throw new StreamError(streamId, ErrorCode.FlowControlError, 'stream window overflow');
    }
    this.pump(stream);
  }

  private unpadded(type: number, flags: number, payload: Buffer): Buffer {
    try {
      return unpaddedPayload(type, flags, payload);
    } catch {
      throw new ConnectionError(ErrorCode.ProtocolError, 'padding exceeds the frame payload');
    }
  }

  // ---- writing ----

  /** Moves what `stream` may send now into the writer: headers, DATA within both windows, then trailers. */
  pump(stream: H2ServerStream): void {
    if (stream.closed || this.phase === 'closed') return;
    if (!stream.headersSent) {
      stream.headersSent = true;
      this.out.responseHeaders(stream.id);
    }
    if (stream.queuedBytes > 0) {
      this.out.data(stream, this.connectionSend);
      if (stream.queuedBytes > 0) {
        this.blocked.add(stream);
        stream.maybeDrained();
        return;
      }
      this.blocked.delete(stream);
    }
    stream.maybeDrained();
    if (stream.trailers !== undefined && !stream.localEnded) {
      this.out.trailers(stream.id, stream.trailers.code, stream.trailers.message);
      this.localEnd(stream);
    }
  }

  respondAndEnd(stream: H2ServerStream, headers: [string, string][]): void {
    if (stream.closed || this.phase === 'closed') return;
    stream.headersSent = true;
    this.out.headers(stream.id, headers, true);
    this.localEnd(stream);
  }

  /** Our END_STREAM is queued: the stream closes, with RST_STREAM(NO_ERROR) if the client is still sending. */
  private localEnd(stream: H2ServerStream): void {
    stream.localEnded = true;
    if (!stream.remoteEnded) this.out.rstStream(stream.id, ErrorCode.NoError);
    this.forget(stream);
  }

  private resetStream(streamId: number, code: number): void {
    this.out.rstStream(streamId, code);
    const stream = this.streams.get(streamId);
    if (stream !== undefined) this.forget(stream);
  }

  /** Closes a stream for good (aborting its call if it had not ended) and finishes a pending shutdown. */
  private forget(stream: H2ServerStream): void {
    this.streams.delete(stream.id);
    this.blocked.delete(stream);
    try {
      stream.abort();
    } catch (err) {
      // Call code reacting to the cancellation threw; the stream is gone either way.
      this.options.logger?.error({ err, peer: this.peer, streamId: stream.id }, 'gRPC call threw on cancel');
    }
    if ((this.goingAway || this.peerGoingAway) && this.streams.size === 0) this.endSocket();
  }

  private pumpAll(): void {
    for (const stream of [...this.blocked]) {
      if (this.connectionSend.bytes <= 0 || this.writer.congested) return;
      this.pump(stream);
    }
  }

  private socketDrained(): void {
    this.controlBytesWhileCongested = 0;
    this.pumpAll();
    for (const stream of this.streams.values()) stream.maybeDrained();
  }

  /** Before answering a control frame: a peer that floods us with them while not reading is dropped. */
  private checkControlFlood(frameBytes: number): void {
    if (!this.writer.congested) return;
    this.controlBytesWhileCongested += frameBytes;
    if (this.controlBytesWhileCongested > CONTROL_BYTES_WHILE_CONGESTED_MAX) {
      throw new ConnectionError(ErrorCode.EnhanceYourCalm, 'too many control frames while not reading');
    }
  }

  // ---- connection lifetime ----

  /** Protocol error: GOAWAY with `code`, every call cancelled, the socket closed once GOAWAY is out. */
  private fail(code: number, debug: string): void {
    if (this.phase === 'closed') return;
    this.out.goAway(this.lastPeerStreamId, code, debug);
    this.writer.flush();
    this.abortAll();
    this.phase = 'closed';
    this.endSocket();
  }

  private endSocket(): void {
    this.writer.flush();
    this.socket.end();
    if (this.lingerTimer === undefined) {
      this.lingerTimer = setTimeout(() => this.socket.destroy(), CLOSE_LINGER_MS);
      this.lingerTimer.unref();
    }
  }

  private abortAll(): void {
    for (const stream of [...this.streams.values()]) this.forget(stream);
  }

  private closed(): void {
    this.phase = 'closed';
    clearInterval(this.keepaliveTimer);
    clearTimeout(this.pingDeadline);
    clearTimeout(this.lingerTimer);
    this.abortAll();
    this.resolveClosed();
    this.options.onClose();
  }

  private startKeepalive(): void {
    const { keepaliveIntervalMs: intervalMs, keepaliveTimeoutMs: timeoutMs } = this.options;
    if (intervalMs <= 0) return;
    this.keepaliveTimer = setInterval(() => {
      if (this.phase === 'closed' || this.pingDeadline !== undefined) return;
      this.out.ping(false, Buffer.alloc(8));
      if (timeoutMs <= 0) return;
      this.pingDeadline = setTimeout(() => {
        this.options.logger?.info({ peer: this.peer }, 'grpc client did not answer keepalive ping; closing connection');
        this.socket.destroy();
      }, timeoutMs);
      this.pingDeadline.unref();
    }, intervalMs);
    this.keepaliveTimer.unref();
  }
}
