// What etcd 3.4 stores in its bbolt buckets, as far as sizes go: bucket names, revision
// keys, the byte length of an mvccpb.KeyValue, meta key names, and the commits etcd makes
// when it creates a fresh backend.
import type { BoltSizeModel } from './bolt-model';
import type { KeyValueShape } from '../kv-codec';
import { keyValueFieldsBytes } from '../proto-size';

export const EtcdBucket = {
  key: 'key',
  meta: 'meta',
  lease: 'lease',
  alarm: 'alarm',
  auth: 'auth',
  authUsers: 'authUsers',
  authRoles: 'authRoles',
  members: 'members',
  membersRemoved: 'members_removed',
  cluster: 'cluster',
} as const;

/** Meta bucket keys (mvcc/kvstore.go) and their value lengths. */
export const EtcdMetaKey = {
  consistentIndex: 'consistent_index',
  scheduledCompact: 'scheduledCompactRev',
  finishedCompact: 'finishedCompactRev',
} as const;
export const CONSISTENT_INDEX_BYTES = 8;
/** Compact revisions are stored as revision keys (8 + '_' + 8). */
export const REVISION_KEY_BYTES = 17;

/**
 * etcd's key bucket key for a revision: main (8 bytes BE) '_' sub (8 bytes BE), plus 't'
 * for a tombstone, as a latin1 string.
 */
export function revisionKey(main: number, sub: number, tombstone: boolean): string {
  let out = u64Chars(main) + '_' + u64Chars(sub);
  if (tombstone) out += 't';
  return out;
}

function u64Chars(value: number): string {
  let chars = '';
  let rest = value;
  for (let i = 0; i < 8; i++) {
    chars = String.fromCharCode(rest % 256) + chars;
    rest = Math.floor(rest / 256);
  }
  return chars;
}

/** Encoded length of mvccpb.KeyValue (proto3: zero fields are left out). */
export function keyValueBytes(kv: KeyValueShape): number {
  return keyValueFieldsBytes(kv.keyBytes, kv.createRevision, kv.modRevision, kv.version, kv.valueBytes, kv.lease);
}

/** A delete writes a KeyValue holding only the key under the tombstone revision key. */
export function tombstoneBytes(keyBytes: number): number {
  return keyValueBytes({ keyBytes, createRevision: 0, modRevision: 0, version: 0, valueBytes: 0, lease: 0n });
}

/**
 * The commits etcd makes when it starts on an empty data dir before serving: its stores
 * create their buckets (forced commit), then consistent_index is written. Two commits are
 * what matters: the second reuses the pages the first freed, as on a fresh etcd (dbSize 20480,
 * in use 16384).
 */
export function bootstrapEtcdBackend(model: BoltSizeModel, afterCommit: () => void = () => undefined): void {
  for (const name of Object.values(EtcdBucket)) model.createBucket(name);
  model.commit();
  afterCommit();
  model.put(EtcdBucket.meta, EtcdMetaKey.consistentIndex, CONSISTENT_INDEX_BYTES);
  model.commit();
  afterCommit();
}
