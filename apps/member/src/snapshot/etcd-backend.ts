// Writes the member's whole state as etcd 3.4's backend database (a bbolt file), as of one
// revision: what `etcdctl snapshot save` receives from etcd, so `snapshot status` and
// `snapshot restore` work on a Keel snapshot and real etcd starts from the restored dir.
//
// Consistency: everything is captured as of one applied index. The small key spaces (leases,
// members, alarms), the revision, applied index and compact revision are read while holding
// the store's batch turn (no apply can commit meanwhile) after running physical compactions
// have finished. The turn is then released and history is streamed without blocking applies:
// history records are never rewritten, new writes only add revisions above the captured one
// (skipped), and only a compaction deletes records — one scheduled during the scan changes
// the compact revision, and the file is then written again holding the turn throughout.
import { BoltWriter, type WriteSummary } from '@keel/bbolt';
import { KeySpaces, decodeId, type MvccStore } from '@keel/mvcc';
import { alarmFromDbKey } from '../apply/alarms';
import { decodeLeaseRecord } from '../apply/appliers';
import { clusterVersionKey, decodeMember } from '../cluster/membership';
import {
  AUTH_REVISION_KEY,
  CLUSTER_VERSION_KEY,
  EtcdBucket,
  MetaKeys,
  alarmKey,
  keyValueRecord,
  leaseRecord,
  memberKey,
  memberRecord,
  revisionKey,
  u64,
} from './etcd-encoding';
import { historyRecords } from './keel-history';

export interface EtcdBackendOptions {
  /** IDs of removed members (kept in memory by Membership; the store does not hold them). */
  removedMemberIds?: () => readonly bigint[];
}

export interface EtcdBackendResult {
  /** The store revision the file captures. */
  revision: number;
  /** Raft index of the last entry applied into it (the file's consistent_index). */
  appliedIndex: number;
  summary: WriteSummary;
}

type Entries = Array<[Buffer, Buffer]>;

export async function writeEtcdBackend(store: MvccStore, path: string, options: EtcdBackendOptions = {}): Promise<EtcdBackendResult> {
  return (await attempt(store, path, options, false)) ?? (await attempt(store, path, options, true))!;
}

/** One try; undefined when a compaction ran during an unblocked history scan (file removed). */
async function attempt(store: MvccStore, path: string, options: EtcdBackendOptions, holdTurn: boolean): Promise<EtcdBackendResult | undefined> {
  const turn = await store.beginBatch();
  let turnHeld = true;
  const releaseTurn = async (): Promise<void> => {
    if (!turnHeld) return;
    turnHeld = false;
    await turn.commit();
  };
  let writer: BoltWriter | undefined;
  try {
    await store.compactionsSettled();
    const revision = store.currentRevision();
    const appliedIndex = store.appliedIndex();
    const compactRevision = store.compactRevision();
    const raw = await smallSpaces(store);
    const removedMembers = sortedByKey((options.removedMemberIds?.() ?? []).map((id) => [memberKey(id), Buffer.from('removed')]));
    if (!holdTurn) await releaseTurn();
    writer = await BoltWriter.create(path);
    const put = async (name: string, entries: Entries | AsyncIterable<[Buffer, Buffer]>): Promise<void> => {
      const bucket = await writer!.bucket(Buffer.from(name));
      for await (const [key, value] of entries) await bucket.put(key, value);
      await bucket.end();
    };
    await put(EtcdBucket.alarm, raw.alarms);
    await put(EtcdBucket.auth, [[AUTH_REVISION_KEY, u64(1)]]);
    await put(EtcdBucket.authRoles, []);
    await put(EtcdBucket.authUsers, []);
    await put(EtcdBucket.cluster, raw.clusterVersion === undefined ? [] : [[CLUSTER_VERSION_KEY, raw.clusterVersion]]);
    await put(EtcdBucket.key, keyBucket(store, revision));
    if (store.compactRevision() !== compactRevision) {
      await writer.abort();
      return undefined;
    }
    await put(EtcdBucket.lease, raw.leases);
    await put(EtcdBucket.members, raw.members);
    await put(EtcdBucket.membersRemoved, removedMembers);
    await put(EtcdBucket.meta, metaEntries(appliedIndex, compactRevision));
    return { revision, appliedIndex, summary: await writer.finish() };
  } catch (error) {
    await writer?.abort();
    throw error;
  } finally {
    await releaseTurn();
  }
}

/** History up to `revision`, in revision order (later writes are not part of the file). */
async function* keyBucket(store: MvccStore, revision: number): AsyncGenerator<[Buffer, Buffer]> {
  for await (const record of historyRecords(store)) {
    if (record.main > revision) return;
    yield [revisionKey(record.main, record.sub, record.tombstone), keyValueRecord(record.kv, record.tombstone)];
  }
}

function metaEntries(appliedIndex: number, compactRevision: number): Entries {
  const entries: Entries = [[MetaKeys.consistentIndex, u64(appliedIndex)]];
  // etcd records both once a compaction ran; the writer waited for it to finish.
  if (compactRevision > 0) {
    entries.push([MetaKeys.finishedCompactRev, revisionKey(compactRevision, 0, false)]);
    entries.push([MetaKeys.scheduledCompactRev, revisionKey(compactRevision, 0, false)]);
  }
  return entries;
}

interface SmallSpaces {
  alarms: Entries;
  leases: Entries;
  members: Entries;
  clusterVersion: Buffer | undefined;
}

/** The raw spaces that hold a handful of records each, re-keyed the way etcd keys them. */
async function smallSpaces(store: MvccStore): Promise<SmallSpaces> {
  const alarms: Entries = [];
  for await (const [key] of store.scanRaw(KeySpaces.alarms)) alarms.push([alarmKey(alarmFromDbKey(key)), Buffer.alloc(0)]);
  // Leases are keyed by 8-byte big-endian ID in both stores, so RocksDB order is etcd's order.
  const leases: Entries = [];
  for await (const [key, value] of store.scanRaw(KeySpaces.leases)) {
    const id = decodeId(key);
    const { ttlSeconds, remainingTtlSeconds } = decodeLeaseRecord(value);
    leases.push([Buffer.from(key), leaseRecord(id, ttlSeconds, remainingTtlSeconds)]);
  }
  const members: Entries = [];
  let clusterVersion: Buffer | undefined;
  for await (const [key, value] of store.scanRaw(KeySpaces.members)) {
    if (key.equals(clusterVersionKey)) clusterVersion = Buffer.from(value);
    else {
      const member = decodeMember(value);
      members.push([memberKey(member.id), memberRecord(member)]);
    }
  }
  return { alarms: sortedByKey(alarms), leases, members: sortedByKey(members), clusterVersion };
}

function sortedByKey(entries: Entries): Entries {
  return entries.sort(([a], [b]) => Buffer.compare(a, b));
}
