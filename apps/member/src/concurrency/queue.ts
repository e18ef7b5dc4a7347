/**
 * The queue discipline shared by locks and elections. Every contender owns one key under
 * `<name>/`, named after its lease; the contender whose key has the lowest create revision
 * holds the lock (leads the election). The others wait, each on the deletion of the key
 * created just before its own, so a release wakes exactly one waiter (no thundering herd)
 * and waiters are served in create-revision (arrival) order.
 *
 * Invariant: a waiter returns only when no key under the prefix has a create revision
 * below its own, i.e. when it is first in line.
 */
import { etcdserverpb, mvccpb } from '@keel/proto';
import { GrpcError, GrpcStatus } from '../rpc/status';
import type { ConcurrencyBackend } from './backend';

/** Go's `fmt.Sprintf("%s%x", prefix, lease)`: the key a lease-holder owns under `prefix`. */
export function contenderKey(prefix: Buffer, lease: bigint): Buffer {
  return Buffer.concat([prefix, Buffer.from(BigInt.asUintN(64, lease).toString(16))]);
}

/** `name` + "/": every contender's key lives below it. */
export function queuePrefix(name: Buffer): Buffer {
  return Buffer.concat([name, Buffer.from('/')]);
}

/** The range_end that selects every key starting with `prefix` (etcd's GetPrefixRangeEnd). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  // All 0xff (or empty): no upper bound, i.e. "to the end of the key space".
  return Buffer.from([0]);
}

/** A range request for the earliest-created key under `prefix` (the owner or leader). */
export function firstCreatedRequest(prefix: Buffer): etcdserverpb.RangeRequest {
  return etcdserverpb.RangeRequest.fromPartial({
    key: prefix,
    rangeEnd: prefixEnd(prefix),
    sortOrder: etcdserverpb.RangeRequest_SortOrder.ASCEND,
    sortTarget: etcdserverpb.RangeRequest_SortTarget.CREATE,
    limit: 1n,
  });
}

/** A range for the latest-created key under `prefix` whose create revision is <= maxCreateRevision. */
function predecessorRequest(prefix: Buffer, maxCreateRevision: bigint): etcdserverpb.RangeRequest {
  return etcdserverpb.RangeRequest.fromPartial({
    key: prefix,
    rangeEnd: prefixEnd(prefix),
    sortOrder: etcdserverpb.RangeRequest_SortOrder.DESCEND,
    sortTarget: etcdserverpb.RangeRequest_SortTarget.CREATE,
    limit: 1n,
    maxCreateRevision,
  });
}

export class OwnKeyLostError extends Error {}

export const cancelledError = (): GrpcError => new GrpcError(GrpcStatus.CANCELLED, 'context canceled');

export interface WaitTurnOptions {
  readonly prefix: Buffer;
  /** The waiter's own key and its create revision. */
  readonly ownKey: Buffer;
  readonly ownCreateRevision: bigint;
  readonly signal: AbortSignal;
}

/**
 * Resolves with the header of the range that found no predecessor. Rejects with
 * OwnKeyLostError when the waiter's own key is deleted meanwhile (its lease expired or was
 * revoked, or someone deleted it), and with CANCELLED when `signal` aborts.
 */
export async function waitTurn(
  backend: ConcurrencyBackend,
  options: WaitTurnOptions,
): Promise<etcdserverpb.ResponseHeader | undefined> {
  const { prefix, ownKey, ownCreateRevision, signal } = options;
  for (;;) {
    if (signal.aborted) throw cancelledError();
    const found = await backend.range(predecessorRequest(prefix, ownCreateRevision - 1n), signal);
    const predecessor = found.kvs[0];
    if (predecessor === undefined) {
      // First in line — provided our key survived; a lease that expired meanwhile took it.
      if (!(await stillOwned(backend, options))) throw new OwnKeyLostError('own key deleted while waiting');
      return found.header;
    }
    const watches = [
      { key: predecessor.key, from: found.header?.revision ?? 0n },
      // From our own creation, so a deletion that happened before this round is seen too.
      { key: ownKey, from: ownCreateRevision + 1n },
    ];
    const gone = await firstDeleted(backend, watches, signal);
    if (gone.equals(ownKey) && !(await stillOwned(backend, options))) {
      throw new OwnKeyLostError('own key deleted while waiting');
    }
  }
}

async function stillOwned(backend: ConcurrencyBackend, options: WaitTurnOptions): Promise<boolean> {
  const own = await backend.range(etcdserverpb.RangeRequest.fromPartial({ key: options.ownKey }), options.signal);
  return own.kvs[0]?.createRevision === options.ownCreateRevision;
}

/**
 * Watches each key from its revision for deletions only and resolves with the first key
 * deleted. A watch the server cancels (e.g. compacted past its start) resolves as if its key
 * were deleted, so the caller looks again instead of waiting forever.
 */
async function firstDeleted(
  backend: ConcurrencyBackend,
  watches: ReadonlyArray<{ key: Buffer; from: bigint }>,
  signal: AbortSignal,
): Promise<Buffer> {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) stop.abort();
  try {
    return await Promise.race(watches.map(({ key, from }) => deletionOf(backend, key, from, stop.signal)));
  } finally {
    signal.removeEventListener('abort', onAbort);
    stop.abort();
  }
}

async function deletionOf(backend: ConcurrencyBackend, key: Buffer, revision: bigint, signal: AbortSignal): Promise<Buffer> {
  const request = etcdserverpb.WatchCreateRequest.fromPartial({
    key,
    startRevision: revision,
    filters: [etcdserverpb.WatchCreateRequest_FilterType.NOPUT],
  });
  for await (const response of backend.watch(request, signal)) {
    if (response.canceled) return key;
    if (response.events.some((event) => event.type === mvccpb.Event_EventType.DELETE)) return key;
  }
  // The watch ended without an event: only cancellation does that.
  throw cancelledError();
}
