/**
 * A lean gRPC server on node:http2. It owns an `http2.Http2Server` (h2c) that the shared
 * listener hands HTTP/2 connections to; it never listens by itself.
 *
 * Per call: look up the method by `:path` (unknown → UNIMPLEMENTED, trailers-only), reassemble
 * length-prefixed request messages, run the handler, write framed responses, and finish with
 * `grpc-status`/`grpc-message` trailers. The client cancelling (RST_STREAM or a dropped
 * connection) aborts the call's signal.
 */
import http2 from 'node:http2';
import type { Logger } from 'pino';
import { GrpcError, GrpcStatus, encodeGrpcMessage, toGrpcError } from './status';
import { ServerCallState, parseGrpcTimeout } from './call';
import { messageEncodingOf } from './framing';
import type {
  AnyMethodDefinition,
  CallOutcome,
  ServiceDefinition,
  ServiceHandlers,
  StreamHandler,
  UnaryHandler,
} from './types';

/** grpc-go adds this slack to etcd's --max-request-bytes for its receive limit (etcd does the same). */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;

export interface GrpcServerOptions {
  /** Largest request message accepted; larger ones end the call with RESOURCE_EXHAUSTED. */
  readonly maxReceiveMessageBytes: number;
  /** Largest response message sent; larger ones end the call with RESOURCE_EXHAUSTED. Default 2 GiB − 1. */
  readonly maxSendMessageBytes?: number;
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS per connection. Default 2^31 − 1. */
  readonly maxConcurrentStreams?: number;
  /**
   * Server-to-client PING interval (etcd --grpc-keepalive-interval; 0 disables) and how long
   * to wait for the ack before dropping the connection (--grpc-keepalive-timeout). This is how
   * a watch held by a vanished client (no FIN) gets cleaned up.
   */
  readonly keepaliveIntervalMs?: number;
  readonly keepaliveTimeoutMs?: number;
  readonly logger?: Logger;
  /** Called once per finished call (metrics). Must not throw. */
  readonly onCallEnd?: (outcome: CallOutcome) => void;
}

interface Route {
  readonly definition: AnyMethodDefinition;
  readonly service: string;
  readonly method: string;
  readonly kind: CallOutcome['kind'];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly unary?: UnaryHandler<any, any>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly stream?: StreamHandler<any, any>;
}

const SESSION_WINDOW_BYTES = 16 * 1024 * 1024;

export class GrpcServer {
  /** Hand HTTP/2 sockets to this server (`http2Server.emit('connection', socket)`). */
  readonly http2Server: http2.Http2Server;
  private readonly routes = new Map<string, Route>();
  private readonly services = new Set<string>();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly options: Required<Omit<GrpcServerOptions, 'logger' | 'onCallEnd'>> & GrpcServerOptions;
  private readonly keepaliveTimers = new Map<http2.ServerHttp2Session, NodeJS.Timeout>();

  constructor(options: GrpcServerOptions) {
    this.options = {
      maxSendMessageBytes: 2 ** 31 - 1,
      maxConcurrentStreams: 2 ** 31 - 1,
      keepaliveIntervalMs: 2 * 60 * 60 * 1000,
      keepaliveTimeoutMs: 20_000,
      ...options,
    };
    this.http2Server = http2.createServer({
      settings: { maxConcurrentStreams: this.options.maxConcurrentStreams, initialWindowSize: 1024 * 1024 },
      maxSessionMemory: 64,
    });
    this.http2Server.on('session', (session) => this.trackSession(session));
    this.http2Server.on('stream', (stream, headers) => this.dispatch(stream, headers));
  }

  /** Registers a service. Methods missing from `handlers` answer UNIMPLEMENTED. */
  addService<S extends ServiceDefinition>(service: S, handlers: ServiceHandlers<S>): void {
    for (const [key, definition] of Object.entries(service)) {
      const handler = (handlers as Record<string, unknown>)[key];
      if (handler === undefined) continue;
      if (typeof handler !== 'function') throw new Error(`handler for ${definition.path} is not a function`);
      if (this.routes.has(definition.path)) throw new Error(`method ${definition.path} registered twice`);
      const [service, method] = splitPath(definition.path);
      this.services.add(service);
      const kind = callKind(definition);
      this.routes.set(definition.path, {
        definition,
        service,
        method,
        kind,
        ...(kind === 'unary' ? { unary: handler as UnaryHandler<unknown, unknown> } : { stream: handler as StreamHandler<unknown, unknown> }),
      });
    }
  }

  /**
   * Graceful close: sends GOAWAY so clients open no new streams, waits up to `graceMs` for
   * calls in flight, then destroys what is left.
   */
  async close(graceMs = 2000): Promise<void> {
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

  private dispatch(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    // Stream errors (RST from the client, session teardown) surface as 'close'; see ServerCallState.
    stream.on('error', ignoreError);
    const path = String(headers[':path'] ?? '');
    const route = this.routes.get(path);
    if (route === undefined || headers[':method'] !== 'POST') {
      const [service, method] = splitPath(path);
      const code = GrpcStatus.UNIMPLEMENTED;
      const text = this.services.has(service)
        ? `unknown method ${method} for service ${service}`
        : `unknown service ${service}`;
      // Not reported to onCallEnd: paths are client-chosen, and metrics must not grow a series
      // per made-up method (go-grpc-prometheus likewise only sees registered methods).
      sendTrailersOnly(stream, new GrpcError(code, text));
      return;
    }
    const contentType = String(headers['content-type'] ?? '');
    if (!contentType.startsWith('application/grpc')) {
      stream.respond({ ':status': 415 }, { endStream: true });
      return;
    }
    const encodingHeader = headers['grpc-encoding'];
    const requestEncoding = messageEncodingOf(typeof encodingHeader === 'string' ? encodingHeader : undefined);
    if (requestEncoding === undefined) {
      const code = GrpcStatus.UNIMPLEMENTED;
      sendTrailersOnly(stream, new GrpcError(code, `grpc: Decompressor is not installed for grpc-encoding "${String(encodingHeader)}"`));
      this.report({ path, service: route.service, method: route.method, kind: route.kind, code, durationMs: 0, receivedBytes: 0, sentBytes: 0 });
      return;
    }
    const startedAt = performance.now();
    const state = new ServerCallState({
      requestEncoding,
      stream,
      headers,
      definition: route.definition,
      maxReceiveMessageBytes: this.options.maxReceiveMessageBytes,
      maxSendMessageBytes: this.options.maxSendMessageBytes,
      deadlineMs: deadlineFrom(headers),
      onFinish: (code, receivedBytes, sentBytes) =>
        this.report({
          path,
          service: route.service,
          method: route.method,
          kind: route.kind,
          code,
          durationMs: performance.now() - startedAt,
          receivedBytes,
          sentBytes,
        }),
    });
    if (route.unary !== undefined) runUnary(state, route.unary, route.definition);
    else runStream(state, route.stream!);
  }

  private report(outcome: CallOutcome): void {
    try {
      this.options.onCallEnd?.(outcome);
    } catch (err) {
      this.options.logger?.error({ err }, 'onCallEnd threw');
    }
  }
}

/**
 * Unary fast path: buffer the single request message, call the handler after the client
 * half-closes, answer with headers + one frame + trailers.
 */
function runUnary(
  state: ServerCallState,
  handler: UnaryHandler<unknown, unknown>,
  definition: AnyMethodDefinition,
): void {
  let request: Buffer | undefined;
  let extra = false;
  state.startReading(
    (message) => {
      if (request === undefined) request = message;
      else extra = true;
    },
    () => {
      if (request === undefined || extra) {
        const text = request === undefined ? 'received no request message' : 'received more than one request message';
        state.finish(new GrpcError(GrpcStatus.INTERNAL, `grpc: ${text} for unary call`));
        return;
      }
      let decoded: unknown;
      try {
        decoded = definition.requestDeserialize(request);
      } catch (err) {
        state.finish(new GrpcError(GrpcStatus.INTERNAL, `grpc: error unmarshalling request: ${String(err)}`));
        return;
      }
      invokeUnary(state, handler, decoded);
    },
  );
}

function invokeUnary(state: ServerCallState, handler: UnaryHandler<unknown, unknown>, request: unknown): void {
  let result: unknown;
  try {
    result = handler(request, state.context);
  } catch (err) {
    state.finish(toGrpcError(err));
    return;
  }
  if (result instanceof Promise) {
    result.then(
      (response) => state.finishUnary(response),
      (err: unknown) => state.finish(toGrpcError(err)),
    );
  } else {
    state.finishUnary(result);
  }
}

function runStream(state: ServerCallState, handler: StreamHandler<unknown, unknown>): void {
  const call = state.streamCall();
  try {
    const result = handler(call);
    if (result instanceof Promise) result.catch((err: unknown) => call.fail(err));
  } catch (err) {
    call.fail(err);
  }
}

/** Ends a call that never sent headers: status goes in the only HEADERS frame. */
export function sendTrailersOnly(stream: http2.ServerHttp2Stream, err: GrpcError): void {
  if (stream.headersSent || stream.destroyed) return;
  stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': String(err.code),
      'grpc-message': encodeGrpcMessage(err.message),
    },
    { endStream: true },
  );
}

function ignoreError(): void {
  // Deliberately empty: the error's consequence (the stream closing) is handled elsewhere.
}

function splitPath(path: string): [service: string, method: string] {
  const match = /^\/([^/]+)\/([^/]+)$/.exec(path);
  return match === null ? [path, ''] : [match[1]!, match[2]!];
}

function callKind(definition: AnyMethodDefinition): CallOutcome['kind'] {
  if (definition.requestStream && definition.responseStream) return 'bidi_stream';
  if (definition.requestStream) return 'client_stream';
  if (definition.responseStream) return 'server_stream';
  return 'unary';
}

function deadlineFrom(headers: http2.IncomingHttpHeaders): number | undefined {
  const raw = headers['grpc-timeout'];
  if (typeof raw !== 'string') return undefined;
  const ms = parseGrpcTimeout(raw);
  return ms === undefined ? undefined : Date.now() + ms;
}
