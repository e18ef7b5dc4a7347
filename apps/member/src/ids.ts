/**
 * Member and cluster IDs, derived the way etcd derives them so the same `--initial-cluster`
 * and `--initial-cluster-token` give the same IDs on Keel as on etcd:
 *
 * - member ID: the first 8 bytes (big-endian) of SHA-1 over the member's peer URLs sorted and
 *   concatenated, then the cluster token, then — only for members added at run time — the
 *   Unix time in seconds as decimal text;
 * - cluster ID: the first 8 bytes of SHA-1 over the sorted member IDs, each as 8 big-endian bytes.
 *
 * IDs are unsigned 64-bit bigints; 0 is reserved (raft's "no node") and never valid.
 */
import { createHash } from 'node:crypto';

export const NO_ID = 0n;
const UINT64_MAX = (1n << 64n) - 1n;

export interface MemberIdInput {
  readonly peerUrls: readonly string[];
  readonly clusterToken: string;
  /** Seconds since the epoch; set only for a member added to a running cluster. */
  readonly addedAtUnixSeconds?: number;
}

/** The member ID etcd would compute for these peer URLs and token (and add time). */
export function memberId(input: MemberIdInput): bigint {
  const sortedUrls = [...input.peerUrls].sort(compareCodeUnits);
  let text = sortedUrls.join('') + input.clusterToken;
  if (input.addedAtUnixSeconds !== undefined) {
    if (!Number.isSafeInteger(input.addedAtUnixSeconds)) throw new Error('addedAtUnixSeconds must be an integer');
    text += String(input.addedAtUnixSeconds);
  }
  return first8Bytes(createHash('sha1').update(text, 'utf8').digest());
}

/** The cluster ID etcd would compute for this set of member IDs (order does not matter). */
export function clusterId(memberIds: readonly bigint[]): bigint {
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const bytes = Buffer.alloc(8 * sorted.length);
  sorted.forEach((id, i) => {
    assertUint64(id);
    bytes.writeBigUInt64BE(id, 8 * i);
  });
  return first8Bytes(createHash('sha1').update(bytes).digest());
}

/** Lower-case hex without leading zeros, as etcd prints IDs (`%x`): 8e9e05c52164694d. */
export function formatId(id: bigint): string {
  assertUint64(id);
  return id.toString(16);
}

/** Parses hex as etcd accepts it (`etcdctl member remove 8e9e05c52164694d`); throws on anything else. */
export function parseId(hex: string): bigint {
  if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) throw new Error(`invalid member ID ${JSON.stringify(hex)}`);
  return BigInt('0x' + hex);
}

/** The same ID as the signed int64 some proto fields carry (etcd's header uses uint64; leases int64). */
export function toInt64(id: bigint): bigint {
  assertUint64(id);
  return BigInt.asIntN(64, id);
}

/** An int64 read off the wire back to the unsigned ID. */
export function fromInt64(value: bigint): bigint {
  return BigInt.asUintN(64, value);
}

function first8Bytes(digest: Buffer): bigint {
  return digest.readBigUInt64BE(0);
}

function assertUint64(id: bigint): void {
  if (id < 0n || id > UINT64_MAX) throw new Error(`ID ${id} is outside uint64`);
}

/** Go's sort.Strings order: by UTF-16 code units here, identical for the ASCII of URLs. */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
