// Turns a client write into a raft proposal and waits for its applied result. Every proposal
// carries a fresh request ID in its header; the apply pipeline answers the waiter registered
// under that ID once the entry is applied (on this member — entries proposed elsewhere have no
// waiter here).
import { internal } from '@keel/proto';
import { ProposalDroppedError } from '@keel/raft';
import { etcdError } from '../api/errors';
import type { WaitRegistry } from './wait';

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

export class Proposer {
  constructor(private readonly deps: ProposerDeps) {}

  /**
   * Proposes `request`; resolves with its response, or rejects with its (client-visible)
   * error. `timeoutMs` overrides the request timeout for callers that retry on their own.
   */
  async propose<T>(request: RequestBody, timeoutMs = this.deps.timeoutMs): Promise<T> {
    const { deps } = this;
    const id = deps.nextRequestId();
    const data = internal.InternalRaftRequest.encode({
      header: { id, username: '', authRevision: 0n },
      request,
    }).finish();
    if (data.length > deps.requestBytesMax) throw etcdError('RequestTooLarge');
    if (!deps.hasLeader()) throw etcdError('NoLeader');
    const outcome = deps.waits.register(id);
    try {
      deps.propose(data);
    } catch (error) {
      deps.waits.fail(id, error instanceof ProposalDroppedError ? etcdError('NoLeader') : (error as Error));
    }
    const timer = setTimeout(() => deps.waits.fail(id, etcdError('Timeout')), timeoutMs);
    try {
      const result = await outcome;
      if (!result.ok) throw result.error;
      return result.response as T;
    } finally {
      clearTimeout(timer);
    }
  }
}
