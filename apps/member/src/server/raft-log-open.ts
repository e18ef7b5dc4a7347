// Opens (or creates) the raft log of this member: the WAL on disk and its in-memory mirror
// that raft reads. A new member computes its member and cluster IDs from --initial-cluster and
// the token (as etcd does) and writes them into the WAL's metadata; a restarting member reads
// them back from there.
import fs from 'node:fs';
import path from 'node:path';
import type { MemoryStorage, Peer } from '@keel/raft';
import { Wal, WalSnapshotNotFoundError, type OpenResult } from '@keel/wal';
import { asRaftSnapshot, listSnapshots, type SnapshotRecord } from './snapshots';
import { ChunkedMemoryStorage } from './entry-arena';
import { checkBootstrapUrls, type MemberConfig } from '../config';
import { clusterId as deriveClusterId, memberId as deriveMemberId } from '../ids';
import { encodeMember, type MemberInfo } from '../cluster/membership';
import { fetchRemoteCluster } from '../cluster/peer-members';

export interface OpenedRaftLog {
  wal: Wal;
  storage: MemoryStorage;
  memberId: bigint;
  clusterId: bigint;
  /** Index of the snapshot the log starts after (0: none); raft's applied index starts there. */
  snapshotIndex: number;
  /** Set when joining a running cluster: its members as the peers reported them. */
  joinedMembers?: MemberInfo[];
  /** Set for a brand-new cluster: the peers raft must be bootstrapped with. */
  bootstrapPeers?: Peer[];
}

/** Opens the WAL from the newest snapshot whose marker it holds (none: from the start). */
export async function openFromNewestSnapshot(
  walDir: string,
  snapDir: string,
  onFsync?: (s: number) => void,
): Promise<{ opened: OpenResult; snapshot?: SnapshotRecord }> {
  for (const snapshot of listSnapshots(snapDir)) {
    try {
      return { opened: await Wal.open(walDir, { onFsync, fromSnapshot: { index: snapshot.index, term: snapshot.term } }), snapshot };
    } catch (error) {
      if (!(error instanceof WalSnapshotNotFoundError)) throw error;
    }
  }
  return { opened: await Wal.open(walDir, { onFsync }) };
}

export async function openRaftLog(
  config: MemberConfig,
  walDir: string,
  snapDir: string,
  onFsync?: (s: number) => void,
): Promise<OpenedRaftLog> {
  // Entry bytes in shared chunks: ~200 bytes less per entry held (see entry-arena.ts).
  const storage = new ChunkedMemoryStorage();
  if (await Wal.exists(walDir)) {
    const { opened, snapshot } = await openFromNewestSnapshot(walDir, snapDir, onFsync);
    if (snapshot) storage.applySnapshot(asRaftSnapshot(snapshot));
    storage.setHardState(opened.hardState);
    storage.append(opened.entries);
    return {
      wal: opened.wal,
      storage,
      memberId: opened.metadata.memberId,
      clusterId: opened.metadata.clusterId,
      snapshotIndex: snapshot?.index ?? 0,
    };
  }
  if (config.initialClusterState === 'existing') return joinExistingCluster(config, walDir, storage, onFsync);
  checkBootstrapUrls(config);
  const members = config.initialClusterMembers.map((m) => ({
    name: m.name,
    peerUrls: [...m.peerUrls],
    id: deriveMemberId({ peerUrls: m.peerUrls, clusterToken: config.initialClusterToken }),
  }));
  const self = members.find((m) => m.name === config.name);
  if (!self) throw new Error(`--initial-cluster has no member named ${config.name}`);
  const clusterId = deriveClusterId(members.map((m) => m.id));
  fs.mkdirSync(path.dirname(walDir), { recursive: true });
  const wal = await Wal.create(walDir, { memberId: self.id, clusterId }, { onFsync });
  const bootstrapPeers = members.map((m) => ({
    id: m.id,
    context: encodeMember({
      id: m.id,
      name: m.name,
      peerUrls: m.peerUrls,
      clientUrls: m.id === self.id ? [...config.advertiseClientUrls] : [],
      isLearner: false,
    }),
  }));
  return { wal, storage, memberId: self.id, clusterId, bootstrapPeers, snapshotIndex: 0 };
}

/**
 * A member added with `member add` starts with an empty log: it learns its ID and the member
 * list from the other peers, then receives the whole log (or, later, a snapshot) from the leader.
 */
async function joinExistingCluster(
  config: MemberConfig,
  walDir: string,
  storage: MemoryStorage,
  onFsync?: (s: number) => void,
): Promise<OpenedRaftLog> {
  const ownUrls = [...config.initialAdvertisePeerUrls].sort().join(',');
  const others = config.initialClusterMembers
    .filter((m) => m.name !== config.name)
    .flatMap((m) => m.peerUrls);
  const remote = await fetchRemoteCluster(others);
  const self = remote.members.find((m) => [...m.peerUrls].sort().join(',') === ownUrls);
  if (!self) {
    throw new Error(
      `member with peer URLs ${ownUrls} is not in the cluster; add it first with "etcdctl member add"`,
    );
  }
  fs.mkdirSync(path.dirname(walDir), { recursive: true });
  const wal = await Wal.create(walDir, { memberId: self.id, clusterId: remote.clusterId }, { onFsync });
  return {
    wal,
    storage,
    memberId: self.id,
    clusterId: remote.clusterId,
    joinedMembers: remote.members,
    snapshotIndex: 0,
  };
}
