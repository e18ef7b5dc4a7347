/**
 * Calls into the gRPC handler objects from inside the process, without HTTP/2 or protobuf
 * framing: the Election/Lock services and the JSON gateway use it so that every etcd call
 * has exactly one implementation (the handler the gRPC server also runs).
 *
 * A `LocalStream` plays the client side of a `StreamCall`: `send()` feeds the handler's
 * `onMessage`, `halfClose()` its `onEnd`, `cancel()` aborts its signal, and the handler's
 * writes come out of the async iterator `responses()`. The handler's `write` returns false
 * once `highWaterMark` responses are waiting unread, and `onDrain` fires when the reader
 * catches up, so a slow reader slows the handler instead of growing memory without bound.
 */
import type { CallContext, Metadata, StreamCall, StreamHandler } from '../rpc/types';
import { GrpcError, GrpcStatus, toGrpcError } from '../rpc/status';

export interface LocalCallOptions {
  /** Method path for logs, e.g. "/etcdserverpb.KV/Range". */
  readonly path: string;
  readonly metadata?: Metadata;
  /** Aborting it cancels the call as a client RST_STREAM would. */
  readonly signal?: AbortSignal;
  /** Queued responses before the handler's write() reports backpressure. Default 64. */
  readonly highWaterMark?: number;
  readonly peer?: string;
}

/** The context a unary handler receives for an in-process call. */
export function localContext(options: LocalCallOptions): CallContext {
  return {
    metadata: options.metadata ?? {},
    signal: options.signal ?? new AbortController().signal,
    peer: options.peer ?? 'local',
    deadlineMs: undefined,
    path: options.path,
  };
}

export interface LocalStream<Req, Res> {
  send(request: Req): void;
  /** No more requests (the handler sees onEnd). */
  halfClose(): void;
  /**
   * Cancels the call: the handler's signal aborts and its later writes are dropped; the
   * reader sees `reason` (default CANCELLED "context canceled").
   */
  cancel(reason?: GrpcError): void;
  /** Responses in order; ends when the handler ends the call, throws its GrpcError when it fails. */
  responses(): AsyncIterableIterator<Res>;
  readonly ended: boolean;
}

type Outcome = { kind: 'ok' } | { kind: 'error'; error: GrpcError };

const CANCELLED = () => new GrpcError(GrpcStatus.CANCELLED, 'context canceled');

/** Starts `handler` on an in-process call and returns the client's side of it. */
export function openLocalStream<Req, Res>(
  handler: StreamHandler<Req, Res>,
  options: LocalCallOptions,
): LocalStream<Req, Res> {
  const highWaterMark = options.highWaterMark ?? 64;
  const abort = new AbortController();
  const queue: Res[] = [];
  const pendingRequests: Req[] = [];
  let messageListener: ((request: Req) => void) | undefined;
  let endListener: (() => void) | undefined;
  let halfClosed = false;
  let endDelivered = false;
  const drainListeners: Array<() => void> = [];
  let blocked = false;
  let outcome: Outcome | undefined;
  let wakeReader: (() => void) | undefined;

  const wake = () => {
    const wakeUp = wakeReader;
    wakeReader = undefined;
    wakeUp?.();
  };
  const finish = (result: Outcome) => {
    if (outcome !== undefined) return;
    outcome = result;
    wake();
  };
  const onExternalAbort = () => cancel();
  if (options.signal?.aborted) queueMicrotask(onExternalAbort);
  options.signal?.addEventListener('abort', onExternalAbort, { once: true });

  /** onEnd fires once, after every request sent before halfClose() reached onMessage. */
  function deliverEnd(): void {
    if (!halfClosed || endDelivered || endListener === undefined) return;
    if (pendingRequests.length > 0 && messageListener === undefined) return;
    endDelivered = true;
    endListener();
  }

  function cancel(reason?: GrpcError): void {
    if (outcome !== undefined) return;
    queue.length = 0;
    finish({ kind: 'error', error: reason ?? CANCELLED() });
    abort.abort();
  }

  const call: StreamCall<Req, Res> = {
    ...localContext({ ...options, signal: abort.signal }),
    onMessage(listener) {
      messageListener = listener;
      for (const request of pendingRequests.splice(0)) listener(request);
      deliverEnd();
    },
    onEnd(listener) {
      endListener = listener;
      deliverEnd();
    },
    write(response) {
      if (outcome !== undefined) return true;
      queue.push(response);
      wake();
      blocked = queue.length >= highWaterMark;
      return !blocked;
    },
    onDrain(listener) {
      drainListeners.push(listener);
    },
    end() {
      finish({ kind: 'ok' });
    },
    fail(err) {
      finish({ kind: 'error', error: toGrpcError(err) });
    },
    get ended() {
      return outcome !== undefined;
    },
  };

  async function* responses(): AsyncIterableIterator<Res> {
    try {
      for (;;) {
        const next = queue.shift();
        if (next !== undefined) {
          if (blocked && queue.length < highWaterMark / 2) {
            blocked = false;
            for (const listener of drainListeners) listener();
          }
          yield next;
          continue;
        }
        if (outcome !== undefined) {
          if (outcome.kind === 'error') throw outcome.error;
          return;
        }
        await new Promise<void>((resolve) => (wakeReader = resolve));
      }
    } finally {
      // The reader stopped (break, return or throw): nobody will read more, so cancel.
      cancel();
      options.signal?.removeEventListener('abort', onExternalAbort);
    }
  }

  try {
    const result = handler(call);
    if (result instanceof Promise) result.catch((err: unknown) => call.fail(err));
  } catch (err) {
    call.fail(err);
  }

  return {
    send(request) {
      if (outcome !== undefined || halfClosed) return;
      if (messageListener === undefined) pendingRequests.push(request);
      else messageListener(request);
    },
    halfClose() {
      if (halfClosed) return;
      halfClosed = true;
      deliverEnd();
    },
    cancel,
    responses,
    get ended() {
      return outcome !== undefined;
    },
  };
}
