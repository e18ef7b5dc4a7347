// Converts between etcd's wire shapes (libs/proto: 64-bit fields as bigint, oneof unions) and
// the store's shapes (libs/mvcc: revisions as numbers, ops as single-key objects). Pure
// functions; the only place the two vocabularies meet.
import type { etcdserverpb, mvccpb } from '@keel/proto';
import type * as mvcc from '@keel/mvcc';

type RangeReqPb = etcdserverpb.RangeRequest;

const optionalBytes = (b: Buffer): Buffer | undefined => (b.length === 0 ? undefined : b);

export function kvToPb(kv: mvcc.KeyValue): mvccpb.KeyValue {
  return {
    key: kv.key,
    createRevision: BigInt(kv.createRevision),
    modRevision: BigInt(kv.modRevision),
    version: BigInt(kv.version),
    value: kv.value,
    lease: kv.lease,
  };
}

export function rangeToMvcc(r: RangeReqPb): mvcc.RangeRequest {
  return {
    key: r.key,
    rangeEnd: optionalBytes(r.rangeEnd),
    limit: Number(r.limit),
    revision: Number(r.revision),
    sortOrder: r.sortOrder as number,
    sortTarget: r.sortTarget as number,
    keysOnly: r.keysOnly,
    countOnly: r.countOnly,
    minModRevision: Number(r.minModRevision),
    maxModRevision: Number(r.maxModRevision),
    minCreateRevision: Number(r.minCreateRevision),
    maxCreateRevision: Number(r.maxCreateRevision),
  };
}

function header(revision: number): etcdserverpb.ResponseHeader {
  return { clusterId: 0n, memberId: 0n, revision: BigInt(revision), raftTerm: 0n };
}

export function rangeFromMvcc(r: mvcc.RangeResponse): etcdserverpb.RangeResponse {
  return { header: header(r.revision), kvs: r.kvs.map(kvToPb), more: r.more, count: BigInt(r.count) };
}

export function putToMvcc(r: etcdserverpb.PutRequest): mvcc.PutRequest {
  return {
    key: r.key,
    value: r.value,
    lease: r.lease,
    prevKv: r.prevKv,
    ignoreValue: r.ignoreValue,
    ignoreLease: r.ignoreLease,
  };
}

export function putFromMvcc(r: mvcc.PutResponse): etcdserverpb.PutResponse {
  return { header: header(r.revision), prevKv: r.prevKv ? kvToPb(r.prevKv) : undefined };
}

export function deleteToMvcc(r: etcdserverpb.DeleteRangeRequest): mvcc.DeleteRangeRequest {
  return { key: r.key, rangeEnd: optionalBytes(r.rangeEnd), prevKv: r.prevKv };
}

export function deleteFromMvcc(r: mvcc.DeleteRangeResponse): etcdserverpb.DeleteRangeResponse {
  return { header: header(r.revision), deleted: BigInt(r.deleted), prevKvs: r.prevKvs.map(kvToPb) };
}

function compareToMvcc(c: etcdserverpb.Compare): mvcc.Compare {
  const out: mvcc.Compare = {
    result: c.result as number,
    target: c.target as number,
    key: c.key,
    rangeEnd: optionalBytes(c.rangeEnd),
  };
  const operand = c.targetUnion;
  if (!operand) return out;
  switch (operand.$case) {
    case 'version':
      out.version = Number(operand.value);
      break;
    case 'createRevision':
      out.createRevision = Number(operand.value);
      break;
    case 'modRevision':
      out.modRevision = Number(operand.value);
      break;
    case 'value':
      out.value = operand.value;
      break;
    case 'lease':
      out.lease = operand.value;
      break;
  }
  return out;
}

function opToMvcc(op: etcdserverpb.RequestOp): mvcc.RequestOp {
  const request = op.request;
  if (!request) return { range: { key: Buffer.alloc(0) } };
  switch (request.$case) {
    case 'requestRange':
      return { range: rangeToMvcc(request.value) };
    case 'requestPut':
      return { put: putToMvcc(request.value) };
    case 'requestDeleteRange':
      return { deleteRange: deleteToMvcc(request.value) };
    case 'requestTxn':
      return { txn: txnToMvcc(request.value) };
  }
}

export function txnToMvcc(r: etcdserverpb.TxnRequest): mvcc.TxnRequest {
  return {
    compare: r.compare.map(compareToMvcc),
    success: r.success.map(opToMvcc),
    failure: r.failure.map(opToMvcc),
  };
}

function opFromMvcc(op: mvcc.ResponseOp): etcdserverpb.ResponseOp {
  if ('range' in op) return { response: { $case: 'responseRange', value: rangeFromMvcc(op.range) } };
  if ('put' in op) return { response: { $case: 'responsePut', value: putFromMvcc(op.put) } };
  if ('deleteRange' in op) return { response: { $case: 'responseDeleteRange', value: deleteFromMvcc(op.deleteRange) } };
  return { response: { $case: 'responseTxn', value: txnFromMvcc(op.txn) } };
}

export function txnFromMvcc(r: mvcc.TxnResponse): etcdserverpb.TxnResponse {
  return { header: header(r.revision), succeeded: r.succeeded, responses: r.responses.map(opFromMvcc) };
}

