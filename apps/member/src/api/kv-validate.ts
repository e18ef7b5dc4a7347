// Request checks done before a KV request is proposed, mirroring what etcd refuses up front
// (empty keys, value/lease given with ignore_*, oversized txns, a txn writing one key twice).
import type { etcdserverpb } from '@keel/proto';
import { etcdError } from './errors';

type DeleteRangeRequest = etcdserverpb.DeleteRangeRequest;
type PutRequest = etcdserverpb.PutRequest;
type RangeRequest = etcdserverpb.RangeRequest;
type RequestOp = etcdserverpb.RequestOp;
type TxnRequest = etcdserverpb.TxnRequest;

export function checkRange(r: RangeRequest): void {
  if (r.key.length === 0) throw etcdError('EmptyKey');
}

export function checkPut(r: PutRequest): void {
  if (r.key.length === 0) throw etcdError('EmptyKey');
  if (r.ignoreValue && r.value.length !== 0) throw etcdError('ValueProvided');
  if (r.ignoreLease && r.lease !== 0n) throw etcdError('LeaseProvided');
}

export function checkDelete(r: DeleteRangeRequest): void {
  if (r.key.length === 0) throw etcdError('EmptyKey');
}

export function checkTxn(r: TxnRequest, txnOpsMax: number): void {
  const ops = Math.max(r.compare.length, r.success.length, r.failure.length);
  if (ops > txnOpsMax) throw etcdError('TooManyOps');
  for (const c of r.compare) if (c.key.length === 0) throw etcdError('EmptyKey');
  for (const op of [...r.success, ...r.failure]) checkOp(op, txnOpsMax - ops);
  checkNoOverlap(r.success);
  checkNoOverlap(r.failure);
}

function checkOp(op: RequestOp, txnOpsMax: number): void {
  const request = op.request;
  if (!request) return;
  switch (request.$case) {
    case 'requestRange':
      return checkRange(request.value);
    case 'requestPut':
      return checkPut(request.value);
    case 'requestDeleteRange':
      return checkDelete(request.value);
    case 'requestTxn':
      return checkTxn(request.value, txnOpsMax);
  }
}

/** A written key or deleted interval, as byte strings in latin1 (order-preserving). */
interface Writes {
  puts: Set<string>;
  deletes: Array<[string, string | undefined]>;
}

const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

function deleteCovers(deletes: Writes['deletes'], key: string): boolean {
  return deletes.some(([from, to]) => {
    if (to === undefined) return key === from;
    if (to === '\0') return key >= from;
    return key >= from && key < to;
  });
}

/**
 * Refuses a txn branch that puts the same key twice or puts a key it also deletes, counting
 * nested txns (whose then/else branches exclude each other, so they may share keys).
 */
function collectWrites(ops: RequestOp[]): Writes {
  const deletes: Writes['deletes'] = [];
  for (const op of ops) {
    if (op.request?.$case !== 'requestDeleteRange') continue;
    const d = op.request.value;
    deletes.push([latin1(d.key), d.rangeEnd.length ? latin1(d.rangeEnd) : undefined]);
  }
  const puts = new Set<string>();
  const claim = (key: string) => {
    if (puts.has(key) || deleteCovers(deletes, key)) throw etcdError('DuplicateKey');
    puts.add(key);
  };
  const nestedDeletes: Writes['deletes'] = [];
  for (const op of ops) {
    if (op.request?.$case !== 'requestTxn') continue;
    const then = collectWrites(op.request.value.success);
    const otherwise = collectWrites(op.request.value.failure);
    for (const key of then.puts) claim(key);
    for (const key of otherwise.puts) {
      if (then.puts.has(key)) continue;
      claim(key);
    }
    nestedDeletes.push(...then.deletes, ...otherwise.deletes);
  }
  deletes.push(...nestedDeletes);
  for (const op of ops) {
    if (op.request?.$case === 'requestPut') claim(latin1(op.request.value.key));
  }
  return { puts, deletes };
}

function checkNoOverlap(ops: RequestOp[]): void {
  collectWrites(ops);
}
