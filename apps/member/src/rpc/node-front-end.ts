/**
 * The node:http2 front end of the gRPC server (the original one, kept selectable for
 * comparison): an h2c `Http2Server` the listener hands connections to, session keepalive,
 * and an adapter giving node's streams the `CallStream` shape calls use.
 */
import http2 from 'node:http2';
import type { Logger } from 'pino';
import type { CallStream } from './call';
import type { Metadata } from './types';

const SESSION_WINDOW_BYTES = 16 * 1024 * 1024;

export interface NodeFrontEndOptions {
  readonly maxConcurrentStreams: number;
  readonly keepaliveIntervalMs: number;
  readonly keepaliveTimeoutMs: number;
  readonly logger?: Logger;
  readonly dispatch: (stream: CallStream, metadata: Metadata) => void;
}

export class NodeHttp2FrontEnd {
  /** Hand HTTP/2 sockets to this server (`http2Server.emit('connection', socket)`). */
  readonly http2Server: http2.Http2Server;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly keepaliveTimers = new Map<http2.ServerHttp2Session, NodeJS.Timeout>();

  constructor(private readonly options: NodeFrontEndOptions) {
    this.http2Server = http2.createServer({
      settings: { maxConcurrentStreams: options.maxConcurrentStreams, initialWindowSize: 1024 * 1024 },
      maxSessionMemory: 64,
    });
    this.http2Server.on('session', (session) => this.trackSession(session));
    this.http2Server.on('stream', (stream, headers) => {
      // Stream errors (RST from the client, session teardown) surface as 'close'; see NodeCallStream.
      stream.on('error', ignoreError);
      options.dispatch(new NodeCallStream(stream), headers);
    });
  }

  /** GOAWAY to every session, up to `graceMs` for calls in flight, then destroy what is left. */
  async close(graceMs: number): Promise<void> {
    const sessions = [...this.sessions];
    await Promise.all(
      sessions.map(
        (session) =>
          new Promise<void>((resolve) => {
            if (session.closed || session.destroyed) return resolve();
            const timer = setTimeout(() => session.destroy(), graceMs);
            session.close(() => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
  }

  private trackSession(session: http2.ServerHttp2Session): void {
    this.sessions.add(session);
    session.once('close', () => {
      this.sessions.delete(session);
      clearInterval(this.keepaliveTimers.get(session));
      this.keepaliveTimers.delete(session);
    });
    this.startKeepalive(session);
    // A socket error is the client's problem; without a listener it would crash the process.
    session.on('error', (err) => this.options.logger?.debug({ err }, 'grpc session error'));
    session.once('connect', () => {
      try {
        session.setLocalWindowSize(SESSION_WINDOW_BYTES);
      } catch {
        // The session may already be closing; the window is only a throughput hint.
      }
    });
  }

  private startKeepalive(session: http2.ServerHttp2Session): void {
    const { keepaliveIntervalMs: intervalMs, keepaliveTimeoutMs: timeoutMs } = this.options;
    if (intervalMs <= 0) return;
    const timer = setInterval(() => {
      if (session.destroyed || session.closed) return;
      let acked = false;
      let sent: boolean;
      try {
        sent = session.ping((err) => {
          acked = err === null;
        });
      } catch {
        return; // the session is going away; its 'close' clears this timer
      }
      if (!sent) return;
      if (timeoutMs <= 0) return;
      setTimeout(() => {
        if (acked || session.destroyed) return;
        this.options.logger?.info({ peer: session.socket?.remoteAddress }, 'grpc client did not answer keepalive ping; closing connection');
        session.destroy();
      }, timeoutMs).unref();
    }, intervalMs);
    timer.unref();
    this.keepaliveTimers.set(session, timer);
  }
}

/**
 * node:http2's stream as a CallStream. Response trailers are sent from 'wantTrailers', which
 * node emits only after the last DATA is flushed: a second write one turn later (the cost the
 * lean front end removes).
 */
class NodeCallStream implements CallStream {
  private trailers: http2.OutgoingHttpHeaders = { 'grpc-status': '0' };

  constructor(private readonly stream: http2.ServerHttp2Stream) {}

  get peer(): string {
    const socket = this.stream.session?.socket;
    return socket ? `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}` : 'unknown';
  }

  read(onData: (chunk: Buffer) => void, onEnd: () => void): void {
    this.stream.on('data', onData);
    this.stream.once('end', onEnd);
  }

  onAbort(listener: () => void): void {
    // 'close' before the call finished means RST_STREAM from the client or a dead connection;
    // after it finished, the call ignores it.
    this.stream.once('close', listener);
  }

  write(frame: Buffer): boolean {
    this.sendHeaders();
    return this.stream.write(frame);
  }

  onDrain(listener: () => void): void {
    this.stream.on('drain', listener);
  }

  end(lastFrame: Buffer | undefined, code: number, message: string | undefined): void {
    if (code !== 0 && !this.stream.headersSent) {
      if (this.stream.destroyed) return;
      const headers: http2.OutgoingHttpHeaders = { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code) };
      if (message !== undefined) headers['grpc-message'] = message;
      this.stream.respond(headers, { endStream: true });
      return;
    }
    this.trailers = message === undefined ? { 'grpc-status': String(code) } : { 'grpc-status': String(code), 'grpc-message': message };
    this.sendHeaders();
    if (lastFrame === undefined) this.stream.end();
    else this.stream.end(lastFrame);
  }

  refuse(httpStatus: number): void {
    if (this.stream.headersSent || this.stream.destroyed) return;
    this.stream.respond({ ':status': httpStatus }, { endStream: true });
  }

  private sendHeaders(): void {
    if (this.stream.headersSent || this.stream.destroyed) return;
    this.stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    this.stream.once('wantTrailers', () => this.stream.sendTrailers(this.trailers));
  }
}

function ignoreError(): void {
  // Deliberately empty: the error's consequence (the stream closing) is handled elsewhere.
}
