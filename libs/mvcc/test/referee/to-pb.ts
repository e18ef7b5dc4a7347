// Keel's request shapes -> etcd's wire messages, and both sides' answers -> one plain shape
// the referee compares.
import { etcdserverpb, type mvccpb } from '@keel/proto';
import type { Compare, KeyValue, RangeRequest, RequestOp, ResponseOp, TxnRequest, TxnResponse } from '../../src';

const buf = (bytes: Uint8Array | undefined): Buffer => Buffer.from(bytes ?? []);

function comparePb(c: Compare): etcdserverpb.Compare {
  const targetUnion =
    c.value !== undefined
      ? { $case: 'value' as const, value: buf(c.value) }
      : c.lease !== undefined
        ? { $case: 'lease' as const, value: c.lease }
        : c.createRevision !== undefined
          ? { $case: 'createRevision' as const, value: BigInt(c.createRevision) }
          : c.modRevision !== undefined
            ? { $case: 'modRevision' as const, value: BigInt(c.modRevision) }
            : { $case: 'version' as const, value: BigInt(c.version ?? 0) };
  return { result: c.result as number, target: c.target as number, key: buf(c.key), rangeEnd: buf(c.rangeEnd), targetUnion };
}

function rangePb(r: RangeRequest): etcdserverpb.RangeRequest {
  return etcdserverpb.RangeRequest.fromPartial({
    key: buf(r.key),
    rangeEnd: buf(r.rangeEnd),
    limit: BigInt(r.limit ?? 0),
    sortOrder: (r.sortOrder ?? 0) as number,
    sortTarget: (r.sortTarget ?? 0) as number,
    keysOnly: r.keysOnly ?? false,
    countOnly: r.countOnly ?? false,
  });
}

function opPb(op: RequestOp): etcdserverpb.RequestOp {
  if ('range' in op) return { request: { $case: 'requestRange', value: rangePb(op.range) } };
  if ('put' in op) {
    const p = op.put;
    const value = etcdserverpb.PutRequest.fromPartial({
      key: buf(p.key),
      value: buf(p.value),
      lease: p.lease ?? 0n,
      prevKv: p.prevKv ?? false,
      ignoreValue: p.ignoreValue ?? false,
      ignoreLease: p.ignoreLease ?? false,
    });
    return { request: { $case: 'requestPut', value } };
  }
  if ('deleteRange' in op) {
    const d = op.deleteRange;
    const value = etcdserverpb.DeleteRangeRequest.fromPartial({ key: buf(d.key), rangeEnd: buf(d.rangeEnd), prevKv: d.prevKv ?? false });
    return { request: { $case: 'requestDeleteRange', value } };
  }
  return { request: { $case: 'requestTxn', value: txnPb(op.txn) } };
}

export function txnPb(t: TxnRequest): etcdserverpb.TxnRequest {
  return { compare: (t.compare ?? []).map(comparePb), success: (t.success ?? []).map(opPb), failure: (t.failure ?? []).map(opPb) };
}

// The plain shape: strings for bytes, numbers for revisions.

type AnyKv = KeyValue | mvccpb.KeyValue;
const plainKv = (kv: AnyKv) =>
  `${buf(kv.key).toString()}=${buf(kv.value).toString()} c${kv.createRevision} m${kv.modRevision} v${kv.version} l${kv.lease}`;

// etcd sets no header on a nested txn's response, so only the outer revision is compared.
export function plainKeel(r: TxnResponse, nested = false): unknown {
  const op = (o: ResponseOp): unknown => {
    if ('range' in o) return { range: o.range.kvs.map(plainKv), more: o.range.more, count: o.range.count };
    if ('put' in o) return { put: o.put.prevKv ? plainKv(o.put.prevKv) : null };
    if ('deleteRange' in o) return { deleted: o.deleteRange.deleted, prev: o.deleteRange.prevKvs.map(plainKv) };
    return { txn: plainKeel(o.txn, true) };
  };
  return { succeeded: r.succeeded, ...(nested ? {} : { revision: r.revision }), responses: r.responses.map(op) };
}

export function plainEtcd(r: etcdserverpb.TxnResponse, nested = false): unknown {
  const op = (o: etcdserverpb.ResponseOp): unknown => {
    const c = o.response!;
    switch (c.$case) {
      case 'responseRange':
        return { range: c.value.kvs.map(plainKv), more: c.value.more, count: Number(c.value.count) };
      case 'responsePut':
        return { put: c.value.prevKv ? plainKv(c.value.prevKv) : null };
      case 'responseDeleteRange':
        return { deleted: Number(c.value.deleted), prev: c.value.prevKvs.map(plainKv) };
      case 'responseTxn':
        return { txn: plainEtcd(c.value, true) };
    }
  };
  return { succeeded: r.succeeded, ...(nested ? {} : { revision: Number(r.header?.revision ?? 0n) }), responses: r.responses.map(op) };
}
