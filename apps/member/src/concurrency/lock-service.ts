/**
 * The v3lockpb.Lock service: a distributed mutex over the KV store (etcd's v3lock semantics).
 *
 * Lock(name, lease) owns the key `<name>/<lease in hex>`, attached to the lease, and returns
 * once that key has the lowest create revision under `<name>/`. Ownership lasts until
 * Unlock(key) deletes the key or the lease ends. A caller that gives up (cancels) while
 * waiting has its key deleted so it does not block those behind it.
 */
import { etcdserverpb, type v3lockpb } from '@keel/proto';
import type { CallContext, ServiceHandlers } from '../rpc/types';
import { withServiceErrors } from './client-errors';
import { GrpcError, GrpcStatus } from '../rpc/status';
import type { ConcurrencyBackend } from './backend';
import { OwnKeyLostError, contenderKey, firstCreatedRequest, queuePrefix, waitTurn } from './queue';
import { createRevisionIs, putOp, rangeOp, rangeResult, sessionLease } from './session';

type LockService = typeof v3lockpb.LockService;

/** etcd's clientv3/concurrency ErrSessionExpired: the lock key vanished while waiting. */
export const SESSION_EXPIRED_MESSAGE = 'mutex: session is expired';

export interface LockServiceDeps {
  readonly backend: ConcurrencyBackend;
}

export function lockHandlers(deps: LockServiceDeps): ServiceHandlers<LockService> {
  const { backend } = deps;
  return {
    lock: withServiceErrors(async (request: v3lockpb.LockRequest, ctx: CallContext) => {
      const lease = await sessionLease(backend, request.lease, ctx.signal);
      return acquire(backend, request.name, lease, ctx.signal);
    }),
    unlock: withServiceErrors(async (request: v3lockpb.UnlockRequest, ctx: CallContext) => {
      const deleted = await backend.deleteRange(etcdserverpb.DeleteRangeRequest.fromPartial({ key: request.key }), ctx.signal);
      return { header: deleted.header };
    }),
  };
}

async function acquire(
  backend: ConcurrencyBackend,
  name: Buffer,
  lease: bigint,
  signal: AbortSignal,
): Promise<v3lockpb.LockResponse> {
  const prefix = queuePrefix(name);
  const key = contenderKey(prefix, lease);
  // Create our key if absent (keeping an existing one's place in line); learn the owner.
  const created = await backend.txn(
    etcdserverpb.TxnRequest.fromPartial({
      compare: [createRevisionIs(key, 0n)],
      success: [putOp(key, Buffer.alloc(0), lease), rangeOp(firstCreatedRequest(prefix))],
      failure: [rangeOp(etcdserverpb.RangeRequest.fromPartial({ key })), rangeOp(firstCreatedRequest(prefix))],
    }),
    signal,
  );
  const ownRevision = created.succeeded ? (created.header?.revision ?? 0n) : existingCreateRevision(created);
  const owner = rangeResult(created, 1).kvs[0];
  if (owner === undefined || owner.createRevision === ownRevision) return { header: created.header, key };

  try {
    const header = await waitTurn(backend, { prefix, ownKey: key, ownCreateRevision: ownRevision, signal });
    return { header, key };
  } catch (error) {
    // Leave the line: a dead waiter must not hold up the ones behind it.
    await backend
      .deleteRange(etcdserverpb.DeleteRangeRequest.fromPartial({ key }), new AbortController().signal)
      .catch(() => undefined);
    if (error instanceof OwnKeyLostError) throw new GrpcError(GrpcStatus.UNKNOWN, SESSION_EXPIRED_MESSAGE);
    throw error;
  }
}

function existingCreateRevision(created: etcdserverpb.TxnResponse): bigint {
  const kv = rangeResult(created, 0).kvs[0];
  // The compare failed, so the key existed at the txn's revision and the range saw it.
  if (kv === undefined) throw new Error('lock txn: key existed but its range came back empty');
  return kv.createRevision;
}
