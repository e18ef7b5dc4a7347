// Public data types of the WAL. Terms and indexes are JS numbers (safe integers, as in
// @keel/raft); 64-bit IDs (member, cluster, vote) are bigint.

/** Raft entry kinds, numbered as in @keel/raft (and etcd's raftpb). */
export const EntryKind = {
  Normal: 0,
  ConfChange: 1,
  ConfChangeV2: 2,
} as const;

/** A Raft log entry. `data` is opaque to the WAL. Structurally equal to @keel/raft's Entry. */
export interface WalEntry {
  term: number;
  index: number;
  type: number;
  data: Uint8Array;
}

/** Raft's persistent state. Structurally equal to @keel/raft's HardState. */
export interface HardState {
  term: number;
  vote: bigint;
  commit: number;
}

export const EMPTY_HARD_STATE: Readonly<HardState> = Object.freeze({ term: 0, vote: 0n, commit: 0 });

/** Identity of the member that owns the WAL; written at the start of every segment. */
export interface WalMetadata {
  memberId: bigint;
  clusterId: bigint;
}

/** Position of a Raft snapshot; the WAL records one marker per snapshot taken or installed. */
export interface SnapshotMarker {
  index: number;
  term: number;
}

export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === 0n && hs.commit === 0;
}
