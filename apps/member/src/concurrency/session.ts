// Pieces both services share: the lease a request runs under, and the txn building blocks.
import { etcdserverpb } from '@keel/proto';
import type { ConcurrencyBackend } from './backend';

/** clientv3/concurrency's default session TTL: a request with lease 0 gets a fresh lease of this TTL. */
export const DEFAULT_SESSION_TTL_SECONDS = 60n;

/**
 * The lease the contender's key is attached to. As etcd's server does (it opens a client
 * session with the given lease), lease 0 means "grant a new one" with the default TTL; the
 * server does not keep it alive, so such a key lives at most that long unless released.
 */
export async function sessionLease(backend: ConcurrencyBackend, lease: bigint, signal: AbortSignal): Promise<bigint> {
  if (lease !== 0n) return lease;
  const granted = await backend.leaseGrant(
    etcdserverpb.LeaseGrantRequest.fromPartial({ TTL: DEFAULT_SESSION_TTL_SECONDS }),
    signal,
  );
  return granted.ID;
}

/** Compare: the key's create revision equals `revision` (0 = the key does not exist). */
export function createRevisionIs(key: Buffer, revision: bigint): etcdserverpb.Compare {
  return etcdserverpb.Compare.fromPartial({
    key,
    target: etcdserverpb.Compare_CompareTarget.CREATE,
    result: etcdserverpb.Compare_CompareResult.EQUAL,
    targetUnion: { $case: 'createRevision', value: revision },
  });
}

export function putOp(key: Buffer, value: Buffer, lease: bigint): etcdserverpb.RequestOp {
  return { request: { $case: 'requestPut', value: etcdserverpb.PutRequest.fromPartial({ key, value, lease }) } };
}

export function rangeOp(request: etcdserverpb.RangeRequest): etcdserverpb.RequestOp {
  return { request: { $case: 'requestRange', value: request } };
}

export function deleteOp(key: Buffer): etcdserverpb.RequestOp {
  return { request: { $case: 'requestDeleteRange', value: etcdserverpb.DeleteRangeRequest.fromPartial({ key }) } };
}

/** The kvs of the range response at `index` in a txn's responses (asserts its shape). */
export function rangeResult(response: etcdserverpb.TxnResponse, index: number): etcdserverpb.RangeResponse {
  const op = response.responses[index]?.response;
  if (op?.$case !== 'responseRange') throw new Error(`txn response ${index} is not a range (${op?.$case})`);
  return op.value;
}
