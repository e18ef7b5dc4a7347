// The one place that names every on-disk key space. Each space is a one-byte prefix in
// the single RocksDB key space (no column families), so a space is the key interval
// [prefix, prefix + 1) and a full scan of one space never touches another.
//
//   'k' history   'k' + revision (17 bytes)        -> encoded KeyValue record (kv-codec.ts)
//   'm' meta      'm' + MetaKey name (utf8)        -> value per MetaKey below
//   'l' leases    'l' + lease ID (8 bytes BE)      -> owned by the member's lessor
//   'u' authUsers 'u' + user name                  -> owned by the member's auth store
//   'r' authRoles 'r' + role name                  -> owned by the member's auth store
//   'a' authMeta  'a' + AuthMetaKey name           -> auth enabled flag, auth revision
//   'c' members   'c' + member ID (8 bytes BE)     -> owned by the member's cluster code
//   'x' alarms    'x' + member ID (8 bytes BE) + alarm type (1 byte) -> alarm record
//
// The history and meta spaces are written only by the store itself; the others are
// "raw" spaces: the store stores opaque bytes there, written through an apply batch
// (so they commit atomically with the data and applied index) and read with
// MvccStore.getRaw/scanRaw. Never reuse or renumber a prefix: it is the on-disk format.
import assert from 'node:assert/strict';

export class KeySpace {
  constructor(
    readonly name: string,
    readonly prefix: number,
    /** True when callers outside the store may write it through rawPut/rawDelete. */
    readonly raw: boolean,
  ) {
    assert.ok(Number.isInteger(prefix) && prefix > 0 && prefix < 0xff, `bad prefix for ${name}`);
  }

  /** The RocksDB key for `suffix` in this space. */
  key(suffix: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(1 + suffix.length);
    out[0] = this.prefix;
    out.set(suffix, 1);
    return out;
  }

  /** The suffix of a RocksDB key of this space (a view, not a copy). */
  suffixOf(dbKey: Buffer): Buffer {
    assert.equal(dbKey[0], this.prefix, `key does not belong to space ${this.name}`);
    return dbKey.subarray(1);
  }

  /** Iterator bounds covering exactly this space. */
  bounds(): { gte: Buffer; lt: Buffer } {
    return { gte: Buffer.from([this.prefix]), lt: Buffer.from([this.prefix + 1]) };
  }
}

export const KeySpaces = {
  history: new KeySpace('history', 0x6b, false),
  meta: new KeySpace('meta', 0x6d, false),
  leases: new KeySpace('leases', 0x6c, true),
  authUsers: new KeySpace('authUsers', 0x75, true),
  authRoles: new KeySpace('authRoles', 0x72, true),
  authMeta: new KeySpace('authMeta', 0x61, true),
  members: new KeySpace('members', 0x63, true),
  alarms: new KeySpace('alarms', 0x78, true),
} as const;

export type KeySpaceName = keyof typeof KeySpaces;

/** Keys of the meta space. Values are 8-byte big-endian unsigned integers unless noted. */
export const MetaKey = {
  /** Raft index of the last entry applied into this database (written with its data). */
  appliedIndex: 'consistent_index',
  /** Raft term of that entry. */
  term: 'term',
  /** Store revision after the last committed batch (guards against losing it to compaction). */
  currentRevision: 'current_revision',
  /** Revision of the last compaction whose index part is committed. */
  scheduledCompactRevision: 'scheduled_compact_revision',
  /** Revision of the last compaction whose physical deletion finished. */
  finishedCompactRevision: 'finished_compact_revision',
  /** Opaque bytes the member may keep for its corruption checker (raw, any format). */
  consistentHashState: 'consistent_hash_state',
  /**
   * High-water mark, in 4 KiB pages, of the bbolt file etcd would have for this data
   * (backend-size/): a restart keeps it, as etcd's file keeps its length.
   */
  backendPages: 'backend_pages',
} as const;

export type MetaKeyName = keyof typeof MetaKey;

/** Keys of the authMeta space (values are owned by the member). */
export const AuthMetaKey = {
  enabled: 'enabled',
  revision: 'revision',
} as const;

export function metaDbKey(name: MetaKeyName): Buffer {
  return KeySpaces.meta.key(Buffer.from(MetaKey[name], 'utf8'));
}

// The u64 values are safe integers, so they are written and read as two 32-bit halves: every
// batch writes three of them, and going through a BigInt allocated on each (a sampling heap
// profile put the BigInt path at 2-3% of all a follower allocates per 1-client put).
const TWO_TO_32 = 2 ** 32;

export function encodeU64(value: number): Buffer {
  assert.ok(Number.isSafeInteger(value) && value >= 0, `u64 out of range: ${value}`);
  const out = Buffer.allocUnsafe(8);
  out.writeUInt32BE(Math.floor(value / TWO_TO_32), 0);
  out.writeUInt32BE(value >>> 0, 4);
  return out;
}

export function decodeU64(bytes: Uint8Array): number {
  assert.equal(bytes.length, 8, 'u64 must be 8 bytes');
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, 8);
  const value = view.readUInt32BE(0) * TWO_TO_32 + view.readUInt32BE(4);
  assert.ok(Number.isSafeInteger(value), 'u64 above 2^53');
  return value;
}

/** 8-byte big-endian encoding of a 64-bit ID (lease, member), for raw-space keys. */
export function encodeId(id: bigint): Buffer {
  const out = Buffer.allocUnsafe(8);
  out.writeBigUInt64BE(BigInt.asUintN(64, id));
  return out;
}

export function decodeId(bytes: Uint8Array): bigint {
  assert.equal(bytes.length, 8, 'id must be 8 bytes');
  return Buffer.from(bytes.buffer, bytes.byteOffset, 8).readBigUInt64BE();
}
