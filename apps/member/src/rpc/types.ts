/**
 * The shapes the gRPC server consumes. Service definitions are exactly what ts-proto emits
 * with `outputServices=grpc-js` (a `const` object of method definitions keyed by method
 * name); handlers are Keel's own, leaner than grpc-js's.
 */
import type { IncomingHttpHeaders } from 'node:http2';

/** One method as ts-proto (grpc-js flavour) describes it. `path` is "/package.Service/Method". */
export interface MethodDefinition<Req, Res> {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly requestSerialize: (value: Req) => Buffer;
  readonly requestDeserialize: (bytes: Buffer) => Req;
  readonly responseSerialize: (value: Res) => Buffer;
  readonly responseDeserialize: (bytes: Buffer) => Res;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyMethodDefinition = MethodDefinition<any, any>;

/** A whole service: method key → definition (e.g. `KVService` from libs/proto). */
export type ServiceDefinition = { readonly [method: string]: AnyMethodDefinition };

/** Request metadata: the HTTP/2 request headers, lower-cased (binary `-bin` values stay base64). */
export type Metadata = IncomingHttpHeaders;

/** What every handler learns about its call. */
export interface CallContext {
  /** Request headers (authorization token, traceparent, …). */
  readonly metadata: Metadata;
  /** Aborted when the client cancels (RST_STREAM), the deadline passes, or the connection dies. */
  readonly signal: AbortSignal;
  /** "ip:port" of the client, for logs. */
  readonly peer: string;
  /** Absolute deadline (Date.now() scale) from `grpc-timeout`, or undefined when none. */
  readonly deadlineMs: number | undefined;
  /** Full method path, e.g. "/etcdserverpb.KV/Range". */
  readonly path: string;
}

/** Unary: resolve with the response, or throw a GrpcError. */
export type UnaryHandler<Req, Res> = (request: Req, ctx: CallContext) => Promise<Res> | Res;

/**
 * A streaming call (server-streaming, client-streaming or bidi), seen from the handler.
 *
 * Contract: the call ends exactly once — by `end()`, by `fail(err)`, by the handler throwing
 * or rejecting (→ that status), or by the client cancelling (→ `signal` aborts; later writes
 * are ignored). For server-streaming calls the single request arrives through `onMessage`
 * like any other, followed by `onEnd`.
 */
export interface StreamCall<Req, Res> extends CallContext {
  /** Registers the message listener. Messages that arrive before registration are queued. */
  onMessage(listener: (request: Req) => void): void;
  /** The client half-closed its side (no more requests). */
  onEnd(listener: () => void): void;
  /**
   * Sends one response. Returns false when the stream's buffer is above its high-water mark:
   * the caller should wait for `onDrain` before writing more (the write itself is kept).
   */
  write(response: Res): boolean;
  /** Called once each time the buffer drains after a write returned false. */
  onDrain(listener: () => void): void;
  /** Ends the call with status OK (after any written responses). Idempotent. */
  end(): void;
  /** Ends the call with this error's status and message. Idempotent with end(). */
  fail(err: unknown): void;
  /** True once the call has ended for any reason (end, fail, cancel). */
  readonly ended: boolean;
}

export type StreamHandler<Req, Res> = (call: StreamCall<Req, Res>) => void | Promise<void>;

type RequestOf<M> =
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  M extends MethodDefinition<infer Req, any> ? Req : never;
type ResponseOf<M> =
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  M extends MethodDefinition<any, infer Res> ? Res : never;

/** The handler a given method needs: unary when neither side streams, StreamHandler otherwise. */
export type HandlerFor<M> = M extends { readonly requestStream: false; readonly responseStream: false }
  ? UnaryHandler<RequestOf<M>, ResponseOf<M>>
  : StreamHandler<RequestOf<M>, ResponseOf<M>>;

/** Handlers for a whole service; a method left out answers UNIMPLEMENTED. */
export type ServiceHandlers<S extends ServiceDefinition> = { [K in keyof S]?: HandlerFor<S[K]> };

/** Reported once per finished call, for metrics (grpc_server_handled_total) and logs. */
export interface CallOutcome {
  readonly path: string;
  readonly service: string;
  readonly method: string;
  readonly kind: 'unary' | 'server_stream' | 'client_stream' | 'bidi_stream';
  readonly code: number;
  readonly durationMs: number;
  /** gRPC-framed request bytes read (etcd_network_client_grpc_received_bytes_total). */
  readonly receivedBytes: number;
  /** gRPC-framed response bytes written (etcd_network_client_grpc_sent_bytes_total). */
  readonly sentBytes: number;
}
