/**
 * The life of one call on one HTTP/2 stream: reading framed requests, sending framed
 * responses, and ending exactly once with a status.
 *
 * Invariant: `done` flips to true exactly once (finish, cancel or deadline), and `onFinish`
 * is called exactly then; nothing is written to the stream afterwards.
 */
import { Deframer, type MessageEncoding, encodeFrame } from './framing';
import { GrpcError, GrpcStatus, encodeGrpcMessage, toGrpcError } from './status';
import type { AnyMethodDefinition, CallContext, Metadata, StreamCall } from './types';

/** Requests a streaming handler has not consumed yet (no onMessage listener) are capped here. */
const PENDING_REQUESTS_MAX = 1024;

/**
 * One HTTP/2 stream as a call uses it, whichever HTTP/2 implementation serves it (node:http2
 * through node-front-end.ts, or the lean server in h2/).
 */
export interface CallStream {
  /** "ip:port" of the client. */
  readonly peer: string;
  /** Registers the request byte listener and the client half-close listener (once). */
  read(onData: (chunk: Buffer) => void, onEnd: () => void): void;
  /** Called at most once when the stream dies (RST_STREAM, connection lost); a call that already ended ignores it. */
  onAbort(listener: () => void): void;
  /** Sends one gRPC-framed message (response headers first); false asks the writer to wait for drain. */
  write(frame: Buffer): boolean;
  onDrain(listener: () => void): void;
  /**
   * Ends the response: `lastFrame` (if any), then `grpc-status: code` with `message` (already
   * percent-encoded) as trailers, or as the only HEADERS frame when nothing was sent yet.
   */
  end(lastFrame: Buffer | undefined, code: number, message: string | undefined): void;
  /** Answers with a bare HTTP status and ends the stream (e.g. 415 for a non-gRPC content type). */
  refuse(httpStatus: number): void;
}

export interface CallStateOptions {
  readonly stream: CallStream;
  readonly headers: Metadata;
  readonly definition: AnyMethodDefinition;
  readonly maxReceiveMessageBytes: number;
  readonly maxSendMessageBytes: number;
  readonly requestEncoding: MessageEncoding;
  readonly deadlineMs: number | undefined;
  /** Called once when the call ends, with the gRPC-framed bytes received and sent. */
  readonly onFinish: (code: number, receivedBytes: number, sentBytes: number) => void;
}

export class ServerCallState {
  readonly context: LazyCallContext;
  private readonly stream: CallStream;
  private readonly deframer: Deframer;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private done = false;
  private receivedBytes = 0;
  private sentBytes = 0;

  constructor(private readonly options: CallStateOptions) {
    this.stream = options.stream;
    this.deframer = new Deframer(options.maxReceiveMessageBytes, options.requestEncoding);
    this.context = new LazyCallContext(options.stream, options.headers, options.deadlineMs);
    // The stream dying before we finished means RST_STREAM from the client or a dead connection.
    this.stream.onAbort(() => this.cancelled());
    if (options.deadlineMs !== undefined) {
      const delay = Math.max(0, options.deadlineMs - Date.now());
      this.deadlineTimer = setTimeout(
        () => this.finish(new GrpcError(GrpcStatus.DEADLINE_EXCEEDED, 'context deadline exceeded')),
        delay,
      );
    }
  }

  get ended(): boolean {
    return this.done;
  }

  /** Feeds complete request messages to `onMessage`, then calls `onEnd` at the client's half-close. */
  startReading(onMessage: (message: Buffer) => void, onEnd: () => void): void {
    this.stream.read((chunk: Buffer) => {
      if (this.done) return;
      this.receivedBytes += chunk.length;
      let messages: Buffer[];
      try {
        messages = this.deframer.push(chunk);
      } catch (err) {
        this.finish(toGrpcError(err));
        return;
      }
      for (const message of messages) {
        if (this.done) return;
        onMessage(message);
      }
    }, () => {
      if (this.done) return;
      if (this.deframer.hasPartial) {
        this.finish(new GrpcError(GrpcStatus.INTERNAL, 'grpc: request stream ended inside a message'));
        return;
      }
      onEnd();
    });
  }

  /** Sends the one response of a unary call and ends with OK. */
  finishUnary(response: unknown): void {
    if (this.done) return;
    const frame = this.serialize(response);
    if (frame === undefined) return;
    this.markDone(GrpcStatus.OK);
    this.stream.end(frame, GrpcStatus.OK, undefined);
  }

  /** Writes one streamed response; false means "wait for drain". */
  write(response: unknown): boolean {
    if (this.done) return false;
    const frame = this.serialize(response);
    if (frame === undefined) return false;
    return this.stream.write(frame);
  }

  /** Ends the call: OK when `err` is undefined. Idempotent. */
  finish(err?: GrpcError): void {
    if (this.done) return;
    if (err === undefined) {
      this.markDone(GrpcStatus.OK);
      this.stream.end(undefined, GrpcStatus.OK, undefined);
      return;
    }
    this.markDone(err.code);
    this.stream.end(undefined, err.code, encodeGrpcMessage(err.message));
  }

  /** The handler-facing view of a streaming call. */
  streamCall(): StreamCall<unknown, unknown> {
    return new StreamCallImpl(this, this.options.definition);
  }

  onDrain(listener: () => void): void {
    this.stream.onDrain(listener);
  }

  private serialize(response: unknown): Buffer | undefined {
    let bytes: Buffer;
    try {
      bytes = this.options.definition.responseSerialize(response);
    } catch (err) {
      this.finish(new GrpcError(GrpcStatus.INTERNAL, `grpc: error while marshaling: ${String(err)}`));
      return undefined;
    }
    this.sentBytes += bytes.length + 5;
    if (bytes.length > this.options.maxSendMessageBytes) {
      const text = `grpc: trying to send message larger than max (${bytes.length} vs. ${this.options.maxSendMessageBytes})`;
      this.finish(new GrpcError(GrpcStatus.RESOURCE_EXHAUSTED, text));
      return undefined;
    }
    return encodeFrame(bytes);
  }

  private markDone(code: number): void {
    this.done = true;
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    // Handlers watching the signal stop work for a deadline or error end too.
    if (code !== GrpcStatus.OK) this.context.abort();
    this.options.onFinish(code, this.receivedBytes, this.sentBytes);
  }

  private cancelled(): void {
    if (this.done) return;
    this.markDone(GrpcStatus.CANCELLED);
  }
}

/**
 * The handler's view of a call. The abort signal and peer text are built only when a
 * handler asks: most unary calls never do, and an AbortController per call is measurable.
 */
class LazyCallContext implements CallContext {
  readonly path: string;
  private controller: AbortController | undefined;
  private abortedBeforeAsked = false;

  constructor(
    private readonly stream: CallStream,
    readonly metadata: Metadata,
    readonly deadlineMs: number | undefined,
  ) {
    this.path = String(metadata[':path']);
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortedBeforeAsked) this.controller.abort();
    }
    return this.controller.signal;
  }

  get peer(): string {
    return this.stream.peer;
  }

  abort(): void {
    if (this.controller !== undefined) this.controller.abort();
    else this.abortedBeforeAsked = true;
  }
}

/** Adapts ServerCallState to the handler's StreamCall (decoding, listener queueing). */
class StreamCallImpl implements StreamCall<unknown, unknown> {
  private messageListener: ((request: unknown) => void) | undefined;
  private endListener: (() => void) | undefined;
  private pending: unknown[] = [];
  private clientEnded = false;
  private endDelivered = false;

  constructor(
    private readonly state: ServerCallState,
    private readonly definition: AnyMethodDefinition,
  ) {
    state.startReading(
      (message) => this.received(message),
      () => this.halfClosed(),
    );
  }

  get ended(): boolean {
    return this.state.ended;
  }
  get metadata(): Metadata {
    return this.state.context.metadata;
  }
  get signal(): AbortSignal {
    return this.state.context.signal;
  }
  get peer(): string {
    return this.state.context.peer;
  }
  get deadlineMs(): number | undefined {
    return this.state.context.deadlineMs;
  }
  get path(): string {
    return this.state.context.path;
  }

  onMessage(listener: (request: unknown) => void): void {
    this.messageListener = listener;
    const queued = this.pending;
    this.pending = [];
    for (const request of queued) {
      if (this.state.ended) return;
      listener(request);
    }
    if (this.clientEnded) this.deliverEnd();
  }

  onEnd(listener: () => void): void {
    this.endListener = listener;
    if (this.clientEnded && this.pending.length === 0) this.deliverEnd();
  }

  write(response: unknown): boolean {
    return this.state.write(response);
  }

  onDrain(listener: () => void): void {
    this.state.onDrain(listener);
  }

  end(): void {
    this.state.finish();
  }

  fail(err: unknown): void {
    this.state.finish(toGrpcError(err));
  }

  /** The end listener runs at most once, after every queued request was delivered. */
  private deliverEnd(): void {
    if (this.endDelivered || this.endListener === undefined || this.state.ended) return;
    this.endDelivered = true;
    this.endListener();
  }

  private received(message: Buffer): void {
    let request: unknown;
    try {
      request = this.definition.requestDeserialize(message);
    } catch (err) {
      this.state.finish(new GrpcError(GrpcStatus.INTERNAL, `grpc: error unmarshalling request: ${String(err)}`));
      return;
    }
    if (this.messageListener !== undefined) {
      this.messageListener(request);
      return;
    }
    if (this.pending.length >= PENDING_REQUESTS_MAX) {
      this.state.finish(new GrpcError(GrpcStatus.RESOURCE_EXHAUSTED, 'grpc: too many unread request messages'));
      return;
    }
    this.pending.push(request);
  }

  private halfClosed(): void {
    this.clientEnded = true;
    // Requests still queued for a listener not yet registered come first; onMessage then ends.
    if (this.messageListener !== undefined || this.pending.length === 0) this.deliverEnd();
  }
}

/** Parses a `grpc-timeout` header ("100m", "5S", …) into milliseconds; undefined if malformed. */
export function parseGrpcTimeout(value: string): number | undefined {
  const match = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (match === null) return undefined;
  const amount = Number(match[1]);
  const unitMs: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };
  return amount * unitMs[match[2]!]!;
}
