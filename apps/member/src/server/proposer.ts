// Turns a client write into a raft proposal and waits for its applied result. Every proposal
// carries a fresh request ID in its header; the apply pipeline answers the waiter registered
// under that ID once the entry is applied (on this member — entries proposed elsewhere have no
// waiter here).
import { encodeToBuffer, internal } from '@keel/proto';
import { ProposalDroppedError } from '@keel/raft';
import { etcdError } from '../api/errors';
import type { WaitRegistry, WaitTimeout } from './wait';

/** What applying one request produced: a response message or a client-visible error. */
export type ApplyOutcome = { ok: true; response: unknown } | { ok: false; error: Error };

export type RequestBody = NonNullable<internal.InternalRaftRequest['request']>;

export interface ProposerDeps {
  propose(data: Uint8Array): void;
  hasLeader(): boolean;
  nextRequestId(): bigint;
  waits: WaitRegistry<ApplyOutcome>;
  requestBytesMax: number;
  timeoutMs: number;
}

const timeoutError = (): Error => etcdError('Timeout');

function waitTimeout(ms: number): WaitTimeout {
  return { ms, error: timeoutError };
}

export class Proposer {
  /** The common case's timeout, made once rather than per request. */
  private readonly defaultTimeout: WaitTimeout;

  constructor(private readonly deps: ProposerDeps) {
    this.defaultTimeout = waitTimeout(deps.timeoutMs);
  }

  /**
   * Proposes `request`; resolves with its response, or rejects with its (client-visible)
   * error. `timeoutMs` overrides the request timeout for callers that retry on their own.
   */
  async propose<T>(request: RequestBody, timeoutMs = this.deps.timeoutMs): Promise<T> {
    const { deps } = this;
    const id = deps.nextRequestId();
    // The shared writer (encodeToBuffer) produces the same bytes as a fresh writer, without
    // growing a new buffer per request; the result is a copy the raft log may keep.
    const data = encodeToBuffer(internal.InternalRaftRequest, {
      header: { id, username: '', authRevision: 0n },
      request,
    });
    if (data.length > deps.requestBytesMax) throw etcdError('RequestTooLarge');
    if (!deps.hasLeader()) throw etcdError('NoLeader');
    const timeout = timeoutMs === deps.timeoutMs ? this.defaultTimeout : waitTimeout(timeoutMs);
    const outcome = deps.waits.register(id, timeout);
    try {
      deps.propose(data);
    } catch (error) {
      deps.waits.fail(id, error instanceof ProposalDroppedError ? etcdError('NoLeader') : (error as Error));
    }
    const result = await outcome;
    if (!result.ok) throw result.error;
    return result.response as T;
  }
}
