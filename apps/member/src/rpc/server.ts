/**
 * A lean gRPC server behind one of two HTTP/2 front ends: the hand-written one in h2/
 * ('lean', one socket write per unary response, no per-stream objects) or node:http2
 * ('node-http2', the original, kept for comparison). It never listens by itself: the shared
 * listener hands it HTTP/2 connections through `acceptConnection`.
 *
 * Per call: look up the method by `:path` (unknown → UNIMPLEMENTED, trailers-only), reassemble
 * length-prefixed request messages, run the handler, write framed responses, and finish with
 * `grpc-status`/`grpc-message` trailers. The client cancelling (RST_STREAM or a dropped
 * connection) aborts the call's signal.
 */
import type http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { GrpcError, GrpcStatus, encodeGrpcMessage, toGrpcError } from './status';
import { type CallStream, ServerCallState, parseGrpcTimeout } from './call';
import { messageEncodingOf } from './framing';
import { LeanFrontEnd } from './h2/front-end';
import { NodeHttp2FrontEnd } from './node-front-end';
import type {
  AnyMethodDefinition,
  CallOutcome,
  Metadata,
  ServiceDefinition,
  ServiceHandlers,
  StreamHandler,
  UnaryHandler,
} from './types';

/** grpc-go adds this slack to etcd's --max-request-bytes for its receive limit (etcd does the same). */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;

/** Which HTTP/2 implementation serves gRPC. */
export type GrpcFrontEnd = 'node-http2' | 'lean';

/** Environment variable that overrides the front end (e.g. KEEL_GRPC_FRONTEND=node-http2 for comparison). */
export const FRONT_END_ENV = 'KEEL_GRPC_FRONTEND';

/** The front end used when the options name none: the environment's choice, else the lean one. */
export function defaultFrontEnd(env: NodeJS.ProcessEnv = process.env): GrpcFrontEnd {
  const chosen = env[FRONT_END_ENV];
  return chosen === 'lean' || chosen === 'node-http2' ? chosen : 'lean';
}

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
  /** The HTTP/2 implementation; default `defaultFrontEnd()` ($KEEL_GRPC_FRONTEND, else lean). */
  readonly frontEnd?: GrpcFrontEnd;
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

type ResolvedOptions = Required<Omit<GrpcServerOptions, 'logger' | 'onCallEnd'>> & GrpcServerOptions;

export class GrpcServer {
  readonly frontEnd: GrpcFrontEnd;
  private readonly routes = new Map<string, Route>();
  private readonly services = new Set<string>();
  private readonly options: ResolvedOptions;
  private readonly node: NodeHttp2FrontEnd | undefined;
  private readonly lean: LeanFrontEnd | undefined;

  constructor(options: GrpcServerOptions) {
    this.options = {
      maxSendMessageBytes: 2 ** 31 - 1,
      maxConcurrentStreams: 2 ** 31 - 1,
      keepaliveIntervalMs: 2 * 60 * 60 * 1000,
      keepaliveTimeoutMs: 20_000,
      frontEnd: defaultFrontEnd(),
      ...options,
    };
    this.frontEnd = this.options.frontEnd;
    const frontEndOptions = {
      maxConcurrentStreams: this.options.maxConcurrentStreams,
      keepaliveIntervalMs: this.options.keepaliveIntervalMs,
      keepaliveTimeoutMs: this.options.keepaliveTimeoutMs,
      ...(this.options.logger !== undefined ? { logger: this.options.logger } : {}),
      dispatch: (stream: CallStream, metadata: Metadata) => this.dispatch(stream, metadata),
    };
    if (this.frontEnd === 'lean') this.lean = new LeanFrontEnd(frontEndOptions);
    else this.node = new NodeHttp2FrontEnd(frontEndOptions);
  }

  /** node:http2's server (front end 'node-http2' only): hand it sockets with `emit('connection', socket)`. */
  get http2Server(): http2.Http2Server {
    if (this.node === undefined) throw new Error('the lean gRPC front end has no node:http2 server');
    return this.node.http2Server;
  }

  /**
   * Serves HTTP/2 on a connection the listener classified (front end 'lean'); `head` holds the
   * bytes already read from it, starting with the client preface (empty over TLS).
   */
  acceptConnection(socket: Duplex, head: Buffer): void {
    if (this.lean === undefined) throw new Error('acceptConnection needs the lean gRPC front end');
    this.lean.accept(socket, head);
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
    await (this.lean ?? this.node)!.close(graceMs);
  }

  private dispatch(stream: CallStream, headers: Metadata): void {
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
      stream.end(undefined, code, encodeGrpcMessage(text));
      return;
    }
    const contentType = String(headers['content-type'] ?? '');
    if (!contentType.startsWith('application/grpc')) {
      stream.refuse(415);
      return;
    }
    const encodingHeader = headers['grpc-encoding'];
    const requestEncoding = messageEncodingOf(typeof encodingHeader === 'string' ? encodingHeader : undefined);
    if (requestEncoding === undefined) {
      const code = GrpcStatus.UNIMPLEMENTED;
      stream.end(undefined, code, encodeGrpcMessage(`grpc: Decompressor is not installed for grpc-encoding "${String(encodingHeader)}"`));
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

function deadlineFrom(headers: Metadata): number | undefined {
  const raw = headers['grpc-timeout'];
  if (typeof raw !== 'string') return undefined;
  const ms = parseGrpcTimeout(raw);
  return ms === undefined ? undefined : Date.now() + ms;
}
