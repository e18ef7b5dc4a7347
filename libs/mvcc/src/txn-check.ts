// Static checks of requests, done before anything is applied (etcd does them in its
// gRPC layer; the store repeats them at apply so a bad entry can never half-apply).
import { DuplicateKeyError, EmptyKeyError, LeaseProvidedError, TooManyOpsError, ValueProvidedError } from './errors';
import type { KeyInterval } from './key-index';
import { intervalContains, toBuffer, toInterval } from './key-range';
import type { DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from './requests';

/** etcd's default --max-txn-ops. */
export const DEFAULT_MAX_TXN_OPS = 128;

export function checkRangeRequest(request: RangeRequest | DeleteRangeRequest): void {
  if (request.key.length === 0) throw new EmptyKeyError();
}

export function checkPutRequest(request: PutRequest): void {
  if (request.key.length === 0) throw new EmptyKeyError();
  if (request.ignoreValue === true && (request.value?.length ?? 0) !== 0) throw new ValueProvidedError();
  if (request.ignoreLease === true && (request.lease ?? 0n) !== 0n) throw new LeaseProvidedError();
}

export function checkTxnRequest(request: TxnRequest, maxTxnOps = DEFAULT_MAX_TXN_OPS): void {
  checkTxnShape(request, maxTxnOps);
  writtenKeys(request.success ?? []);
  writtenKeys(request.failure ?? []);
}

function checkTxnShape(request: TxnRequest, maxTxnOps: number): void {
  const compares = request.compare ?? [];
  const success = request.success ?? [];
  const failure = request.failure ?? [];
  const ops = Math.max(compares.length, success.length, failure.length);
  if (ops > maxTxnOps) throw new TooManyOpsError();
  for (const compare of compares) if (compare.key.length === 0) throw new EmptyKeyError();
  for (const op of [...success, ...failure]) {
    if ('range' in op) checkRangeRequest(op.range);
    else if ('put' in op) checkPutRequest(op.put);
    else if ('deleteRange' in op) checkRangeRequest(op.deleteRange);
    else checkTxnShape(op.txn, maxTxnOps - ops);
  }
}

interface Writes {
  /** Keys put (as latin1 strings, one char per byte). */
  puts: Set<string>;
  deletes: KeyInterval[];
}

/**
 * Collects the keys one op list writes and refuses a key put twice, or put and covered
 * by a delete range of the same list or of a nested txn. The two branches of a nested
 * txn exclude each other, so they may write the same key. Delete ranges may overlap.
 *
 * A delete whose range_end is "\0" (from the key on) is left out, as etcd 3.4 does: its
 * check takes range_end literally, as the interval [key, "\0"), which holds no key, so
 * etcd accepts e.g. `delete --from-key a` with `put b` in one txn (applied in order: b
 * ends up present). Refusing it would fail clients that work against etcd.
 */
function writtenKeys(ops: readonly RequestOp[]): Writes {
  const writes: Writes = { puts: new Set(), deletes: [] };
  const deleted = (key: string): boolean => {
    const bytes = Buffer.from(key, 'latin1');
    return writes.deletes.some((interval) => intervalContains(interval, bytes));
  };
  for (const op of ops) {
    if (!('deleteRange' in op)) continue;
    if (isFromKeyOn(op.deleteRange.rangeEnd)) continue;
    const interval = toInterval(op.deleteRange);
    if (interval !== undefined) writes.deletes.push(interval);
  }
  for (const op of ops) {
    if (!('txn' in op)) continue;
    const success = writtenKeys(op.txn.success ?? []);
    const failure = writtenKeys(op.txn.failure ?? []);
    for (const key of success.puts) {
      if (writes.puts.has(key) || deleted(key)) throw new DuplicateKeyError();
    }
    for (const key of failure.puts) {
      if ((writes.puts.has(key) && !success.puts.has(key)) || deleted(key)) throw new DuplicateKeyError();
    }
    for (const key of [...success.puts, ...failure.puts]) writes.puts.add(key);
    writes.deletes.push(...success.deletes, ...failure.deletes);
  }
  for (const op of ops) {
    if (!('put' in op)) continue;
    const key = toBuffer(op.put.key).toString('latin1');
    if (writes.puts.has(key) || deleted(key)) throw new DuplicateKeyError();
    writes.puts.add(key);
  }
  return writes;
}

function isFromKeyOn(rangeEnd: Uint8Array | undefined): boolean {
  return rangeEnd !== undefined && rangeEnd.length === 1 && rangeEnd[0] === 0;
}
