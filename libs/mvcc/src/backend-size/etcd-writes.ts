// Translates Keel's RocksDB records into the bbolt writes etcd 3.4 would make for the same
// data: the same bucket, an etcd-shaped key, and the value's length in etcd's encoding.
//
// Exact for what decides etcd's size: history records (key bucket: revision key, 't' for a
// tombstone, mvccpb.KeyValue length) and the meta keys etcd 3.4 has (consistent_index,
// scheduled/finished compact revision). The other spaces are small and stay inline in
// etcd's root page; for them Keel's own key and value lengths stand in for etcd's protobuf
// or JSON encodings (close, not byte-exact). Keel-only meta keys (term, current revision,
// hash state, the model's own page count) have no etcd counterpart and are skipped.
import { KeySpaces, MetaKey } from '../keyspaces';
import { recordShape } from '../kv-codec';
import type { BatchOp } from '../rocks';
import { CONSISTENT_INDEX_BYTES, EtcdBucket, EtcdMetaKey, keyValueBytes, REVISION_KEY_BYTES, tombstoneBytes } from './etcd-layout';

export interface EtcdWrite {
  bucket: string;
  key: string;
  /** Value length; undefined for a delete. */
  valueBytes: number | undefined;
  /** etcd writes revisions with UnsafeSeqPut (fill percent 0.9). */
  sequential: boolean;
}

const MEMBER_ID_BYTES = 8;

/** RocksDB meta key name (utf8) -> etcd meta key and value length. */
const META_KEYS = new Map<string, [string, number]>([
  [MetaKey.appliedIndex, [EtcdMetaKey.consistentIndex, CONSISTENT_INDEX_BYTES]],
  [MetaKey.scheduledCompactRevision, [EtcdMetaKey.scheduledCompact, REVISION_KEY_BYTES]],
  [MetaKey.finishedCompactRevision, [EtcdMetaKey.finishedCompact, REVISION_KEY_BYTES]],
]);

const AUTH_META_KEYS = new Map<string, string>([
  ['enabled', 'authEnabled'],
  ['revision', 'authRevision'],
]);

/** The etcd write for one RocksDB op, or undefined when etcd has no such record. */
export function etcdWriteOf(op: BatchOp): EtcdWrite | undefined {
  const suffix = op.key.subarray(1);
  const value = op.type === 'put' ? op.value : undefined;
  switch (op.key[0]) {
    case KeySpaces.history.prefix:
      return historyWrite(suffix, value);
    case KeySpaces.meta.prefix: {
      const meta = META_KEYS.get(suffix.toString('utf8'));
      return meta === undefined ? undefined : plain(EtcdBucket.meta, meta[0], value === undefined ? undefined : meta[1]);
    }
    case KeySpaces.leases.prefix:
      return plain(EtcdBucket.lease, suffix.toString('latin1'), value?.length);
    case KeySpaces.authUsers.prefix:
      return plain(EtcdBucket.authUsers, suffix.toString('latin1'), value?.length);
    case KeySpaces.authRoles.prefix:
      return plain(EtcdBucket.authRoles, suffix.toString('latin1'), value?.length);
    case KeySpaces.authMeta.prefix: {
      const name = suffix.toString('utf8');
      return plain(EtcdBucket.auth, AUTH_META_KEYS.get(name) ?? name, value?.length);
    }
    case KeySpaces.members.prefix:
      // etcd keys members by their hex ID; anything else Keel keeps here is cluster-wide.
      return suffix.length === MEMBER_ID_BYTES
        ? plain(EtcdBucket.members, suffix.toString('hex'), value?.length)
        : plain(EtcdBucket.cluster, suffix.toString('latin1'), value?.length);
    case KeySpaces.alarms.prefix:
      return plain(EtcdBucket.alarm, suffix.toString('latin1'), value === undefined ? undefined : 0);
    default:
      return undefined;
  }
}

/** True when `op` writes a revision (etcd then also rewrites consistent_index). */
export function isHistoryWrite(op: BatchOp): boolean {
  return op.key[0] === KeySpaces.history.prefix;
}

function plain(bucket: string, key: string, valueBytes: number | undefined): EtcdWrite {
  return { bucket, key, valueBytes, sequential: false };
}

function historyWrite(revisionBytes: Buffer, record: Buffer | undefined): EtcdWrite {
  // Keel's revision key is etcd's without the tombstone mark, which lives in the record. A
  // delete (physical compaction) does not see the record: the caller tries both keys.
  if (record === undefined) return { bucket: EtcdBucket.key, key: revisionBytes.toString('latin1'), valueBytes: undefined, sequential: false };
  const shape = recordShape(record);
  const key = revisionBytes.toString('latin1') + (shape.tombstone ? 't' : '');
  const valueBytes = shape.tombstone ? tombstoneBytes(shape.keyBytes) : keyValueBytes(shape);
  return { bucket: EtcdBucket.key, key, valueBytes, sequential: true };
}
