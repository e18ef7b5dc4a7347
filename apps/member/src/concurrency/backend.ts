/**
 * What the Election and Lock services need from the member: plain KV calls, lease grant and
 * a watch. The member satisfies it with `backendFromHandlers` (./handler-backend.ts) over its
 * own KV/Lease/Watch handler objects, so these services take exactly the path a client's
 * request would (validation, raft, header stamping) and add no second implementation.
 */
import type { etcdserverpb } from '@keel/proto';

export interface ConcurrencyBackend {
  range(request: etcdserverpb.RangeRequest, signal: AbortSignal): Promise<etcdserverpb.RangeResponse>;
  txn(request: etcdserverpb.TxnRequest, signal: AbortSignal): Promise<etcdserverpb.TxnResponse>;
  deleteRange(request: etcdserverpb.DeleteRangeRequest, signal: AbortSignal): Promise<etcdserverpb.DeleteRangeResponse>;
  leaseGrant(request: etcdserverpb.LeaseGrantRequest, signal: AbortSignal): Promise<etcdserverpb.LeaseGrantResponse>;
  /**
   * Watches as one WatchCreateRequest describes (key, range_end, start_revision, filters).
   * Yields every WatchResponse after the `created` one, in order. The iteration ends when
   * the watch is cancelled by the server (the response with `canceled` is yielded first)
   * and throws when the call fails. Aborting `signal` or leaving the loop cancels the watch.
   */
  watch(request: etcdserverpb.WatchCreateRequest, signal: AbortSignal): AsyncIterable<etcdserverpb.WatchResponse>;
}
