// etcd 3.4's backend buckets and how it encodes each record, for writing a database file
// that `etcdctl snapshot status/restore` and etcd itself read (etcd-backend.ts writes it).
//
//   bucket            key                                   value
//   key               revision: main u64 BE '_' sub u64 BE  mvccpb.KeyValue (a delete: key only)
//                     (+ 't' for a delete)
//   meta              consistent_index                      applied raft index, u64 BE
//                     finishedCompactRev/scheduledCompactRev  revision bytes (main, sub 0)
//   lease             lease ID, i64 BE                      leasepb.Lease {ID, TTL, RemainingTTL}
//   members           member ID in hex (no padding)         JSON {"id","peerURLs","isLearner","name","clientURLs"}
//   members_removed   member ID in hex                      "removed"
//   cluster           clusterVersion                        "3.4.0"
//   alarm             etcdserverpb.AlarmMember              empty
//   auth              authRevision (authEnabled when set)   u64 BE (1 for a cluster without auth)
//   authUsers / authRoles                                    (empty: Keel has no auth yet)
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { encodeToBuffer, mvccpb } from '@keel/proto';
import type { KeyValue } from '@keel/mvcc';
import type { MemberInfo } from '../cluster/membership';
import type { AlarmEntry } from '../apply/alarms';

/** Bucket names in byte order: the order a bbolt root bucket holds them. */
/** etcd's bucket names: the backend size model (libs/mvcc) and the snapshot writer share them. */
export { EtcdBucket } from '@keel/mvcc';

export const MetaKeys = {
  consistentIndex: Buffer.from('consistent_index'),
  finishedCompactRev: Buffer.from('finishedCompactRev'),
  scheduledCompactRev: Buffer.from('scheduledCompactRev'),
} as const;

export const AUTH_REVISION_KEY = Buffer.from('authRevision');
export const CLUSTER_VERSION_KEY = Buffer.from('clusterVersion');
const TOMBSTONE_MARK = 0x74; // 't'

/** etcd's revision key: 17 bytes, plus 't' for a delete. */
export function revisionKey(main: number, sub: number, tombstone: boolean): Buffer {
  const key = Buffer.alloc(tombstone ? 18 : 17);
  key.writeBigUInt64BE(BigInt(main), 0);
  key[8] = 0x5f; // '_'
  key.writeBigUInt64BE(BigInt(sub), 9);
  if (tombstone) key[17] = TOMBSTONE_MARK;
  return key;
}

export function u64(value: number | bigint): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(value));
  return out;
}

/** A version of a key as Keel's store holds it (same fields as mvccpb.KeyValue). */
export type StoredKeyValue = KeyValue;

/** The mvccpb.KeyValue etcd stores: the full record for a put, the key alone for a delete. */
export function keyValueRecord(kv: StoredKeyValue, tombstone: boolean): Buffer {
  const message: mvccpb.KeyValue = tombstone
    ? { key: kv.key, createRevision: 0n, modRevision: 0n, version: 0n, value: Buffer.alloc(0), lease: 0n }
    : {
        key: kv.key,
        createRevision: BigInt(kv.createRevision),
        modRevision: BigInt(kv.modRevision),
        version: BigInt(kv.version),
        value: kv.value,
        lease: BigInt.asIntN(64, kv.lease),
      };
  // One reused protobuf writer (encodeToBuffer): a fresh writer per record costs more than encoding.
  return encodeToBuffer(mvccpb.KeyValue, message);
}

/** leasepb.Lease: ID = 1, TTL = 2, RemainingTTL = 3 (int64 each; zero fields omitted). */
export function leaseRecord(id: bigint, ttlSeconds: number, remainingTtlSeconds: number): Buffer {
  const writer = new BinaryWriter();
  const signedId = BigInt.asIntN(64, id);
  if (signedId !== 0n) writer.uint32(8).int64(signedId);
  if (ttlSeconds !== 0) writer.uint32(16).int64(ttlSeconds);
  if (remainingTtlSeconds !== 0) writer.uint32(24).int64(remainingTtlSeconds);
  return Buffer.from(writer.finish());
}

/** etcdserverpb.AlarmMember {MemberID = 1 (uint64), Alarm = 2 (enum)}: the alarm bucket's key. */
export function alarmKey(entry: AlarmEntry): Buffer {
  const writer = new BinaryWriter();
  const memberId = BigInt.asUintN(64, entry.memberId);
  if (memberId !== 0n) writer.uint32(8).uint64(memberId);
  if (entry.alarm !== 0) writer.uint32(16).int32(entry.alarm);
  return Buffer.from(writer.finish());
}

/** types.ID.String(): lower-case hex without padding. */
export function memberKey(id: bigint): Buffer {
  return Buffer.from(BigInt.asUintN(64, id).toString(16));
}

/** The member JSON etcd's membership store writes (Go's encoding/json field order and escaping). */
export function memberRecord(member: MemberInfo): Buffer {
  const parts = [`"id":${BigInt.asUintN(64, member.id).toString()}`, `"peerURLs":${goJson(member.peerUrls)}`];
  if (member.isLearner) parts.push('"isLearner":true');
  if (member.name !== '') parts.push(`"name":${goJson(member.name)}`);
  if (member.clientUrls.length > 0) parts.push(`"clientURLs":${goJson(member.clientUrls)}`);
  return Buffer.from(`{${parts.join(',')}}`);
}

/** JSON as Go's encoding/json writes it: like JSON.stringify, but <, > and & escaped. */
function goJson(value: string | string[]): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
