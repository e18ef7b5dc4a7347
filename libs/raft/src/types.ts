// Public data types of the Raft library. Node IDs are 64-bit bigints; terms and indexes are
// JS numbers (safe up to 2^53, far beyond any realistic log).
import type { Storage } from './storage';
import type { Logger } from './logger';

/** Node ID meaning "nobody" (no leader known, no vote cast). Real IDs are never 0. */
export const NONE = 0n;

export enum EntryType {
  Normal = 0,
  /** data holds an encoded ConfChange (see encodeConfChange). */
  ConfChange = 1,
  /** data holds an encoded ConfChangeV2 (see encodeConfChangeV2). */
  ConfChangeV2 = 2,
}

/** One log entry. Invariant: within a log, entries[i].index === entries[0].index + i. */
export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

export enum MessageType {
  /** Local: start an election (campaign). */
  Hup = 0,
  /** Local: leader should broadcast heartbeats now. */
  Beat = 1,
  /** Proposal of entries (local, or forwarded from a follower to the leader). */
  Prop = 2,
  App = 3,
  AppResp = 4,
  Vote = 5,
  VoteResp = 6,
  Snap = 7,
  Heartbeat = 8,
  HeartbeatResp = 9,
  /** Local: the transport could not reach `from`. */
  Unreachable = 10,
  /** Local: outcome of sending a snapshot to `from` (reject = failed). */
  SnapStatus = 11,
  /** Local: leader checks that it heard from a quorum recently. */
  CheckQuorum = 12,
  TransferLeader = 13,
  TimeoutNow = 14,
  ReadIndex = 15,
  ReadIndexResp = 16,
  PreVote = 17,
  PreVoteResp = 18,
}

/**
 * A message between Raft nodes (or a local input). Every field is present so a transport can
 * encode it without optional-field juggling; unused fields are 0 / false / [].
 */
export interface Message {
  type: MessageType;
  to: bigint;
  from: bigint;
  term: number;
  /** App: term of the entry at `index`; vote requests: term of the candidate's last entry. */
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  snapshot?: Snapshot;
  reject: boolean;
  /** AppResp rejection: the follower's guess of where the leader should probe next. */
  rejectHint: number;
  /** Opaque request context (ReadIndex ctx in heartbeats, campaign type in votes). */
  context?: Uint8Array;
}

/** State that must be persisted before messages of the same Ready are sent. */
export interface HardState {
  term: number;
  vote: bigint;
  commit: number;
}

export interface ConfState {
  /** Voters of the incoming (or only) configuration. */
  voters: bigint[];
  learners: bigint[];
  /** Voters of the outgoing configuration; non-empty only in a joint configuration. */
  votersOutgoing: bigint[];
  /** Learners that become learners once the joint configuration is left (they are outgoing voters now). */
  learnersNext: bigint[];
  /** In a joint configuration: leave it automatically once it is committed. */
  autoLeave: boolean;
}

export interface SnapshotMetadata {
  confState: ConfState;
  index: number;
  term: number;
}

export interface Snapshot {
  data: Uint8Array;
  metadata: SnapshotMetadata;
}

export enum ConfChangeType {
  AddNode = 0,
  RemoveNode = 1,
  UpdateNode = 2,
  AddLearnerNode = 3,
}

export enum ConfChangeTransition {
  /** Single change: simple (one step). Several changes: joint, left automatically. */
  Auto = 0,
  /** Always joint consensus, left automatically once the joint config is committed. */
  Implicit = 1,
  /** Always joint consensus; the application must propose an empty ConfChangeV2 to leave. */
  Explicit = 2,
}

/** Legacy single-node change (etcd's ConfChange). */
export interface ConfChange {
  type: ConfChangeType;
  nodeId: bigint;
  context?: Uint8Array;
}

export interface ConfChangeSingle {
  type: ConfChangeType;
  nodeId: bigint;
}

/** A (possibly multi-node) change. Empty `changes` means "leave the joint configuration". */
export interface ConfChangeV2 {
  transition: ConfChangeTransition;
  changes: ConfChangeSingle[];
  context?: Uint8Array;
}

/** The answer to a ReadIndex request: reads are linearizable once applied >= index. */
export interface ReadState {
  index: number;
  requestCtx: Uint8Array;
}

export enum StateType {
  Follower = 0,
  Candidate = 1,
  Leader = 2,
  PreCandidate = 3,
}

/** Volatile state, reported for information only (no need to persist). */
export interface SoftState {
  lead: bigint;
  raftState: StateType;
}

export enum ReadOnlyOption {
  /** Confirm leadership with a heartbeat round per batch of reads (linearizable). */
  Safe = 0,
  /** Trust the leader lease (requires checkQuorum; relies on bounded clock drift). */
  LeaseBased = 1,
}

export interface Config {
  /** This node's ID; must not be 0. */
  id: bigint;
  /** Ticks without hearing from a leader before campaigning; the actual timeout is randomised in [electionTick, 2*electionTick). Must exceed heartbeatTick. */
  electionTick: number;
  /** Ticks between leader heartbeats. */
  heartbeatTick: number;
  /** Read-only view of the persisted log; raft never writes to it. */
  storage: Storage;
  /** Last applied index when restarting (entries up to it are not re-delivered). Default 0. */
  applied?: number;
  /** Byte cap of one App message's entries (at least one entry is always sent). Default 1 MiB; 0 = one entry per message. */
  maxSizePerMsg?: number;
  /** Byte cap of committed entries in one Ready. Default: maxSizePerMsg. */
  maxCommittedSizePerReady?: number;
  /** Leader: cap on bytes of uncommitted entry payloads; proposals beyond it are dropped. Default 0 = unlimited. */
  maxUncommittedEntriesSize?: number;
  /** Cap on App messages in flight per follower in Replicate state. Default 256. */
  maxInflightMsgs?: number;
  /** Cap on entry bytes in flight per follower. Default 0 = unlimited. */
  maxInflightBytes?: number;
  /** Leader steps down if it has not heard from a quorum within an election timeout; followers then ignore votes while they have a live leader. */
  checkQuorum?: boolean;
  /** Run a pre-vote round before incrementing the term (thesis §9.6). */
  preVote?: boolean;
  readOnlyOption?: ReadOnlyOption;
  /** Followers drop proposals instead of forwarding them to the leader. */
  disableProposalForwarding?: boolean;
  /** Seeded uniform generator in [0,1) used for election timeouts. Default: createRandom(id). */
  random?: () => number;
  logger?: Logger;
}

/**
 * Output of the state machine. The caller must, in order: persist hardState, entries and
 * snapshot (fsync if mustSync); send messages; apply committedEntries; then call advance(rd).
 */
export interface Ready {
  /** Present only when changed since the previous Ready. */
  softState?: SoftState;
  /** Present only when changed since the previous Ready. */
  hardState?: HardState;
  readStates: ReadState[];
  /** Entries to append to stable storage (they may overwrite a persisted suffix). */
  entries: Entry[];
  /** Snapshot to install to stable storage. */
  snapshot?: Snapshot;
  /** Entries to apply to the state machine; already persisted and committed. */
  committedEntries: Entry[];
  /** Outbound messages; send only after entries and hardState are persisted. */
  messages: Message[];
  /** Whether hardState/entries must be fsynced before sending messages. */
  mustSync: boolean;
}

export enum ProgressState {
  Probe = 0,
  Replicate = 1,
  Snapshot = 2,
}

export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  isLearner: boolean;
  recentActive: boolean;
  probeSent: boolean;
  pendingSnapshot: number;
  inflightCount: number;
  inflightBytes: number;
}

export interface Status {
  id: bigint;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  /** Leader only: replication progress per peer. */
  progress?: Map<bigint, ProgressStatus>;
  leadTransferee: bigint;
  config: ConfState;
}

/** A peer of a brand-new cluster, for RawNode.bootstrap. */
export interface Peer {
  id: bigint;
  context?: Uint8Array;
}

const EMPTY_BYTES = new Uint8Array(0);

/**
 * Builds a Message with every unspecified field zeroed. Every field is assigned explicitly (no
 * spread) so all messages share one object shape: this sits on the replication hot path.
 */
export function newMessage(f: Partial<Message> & { type: MessageType }): Message {
  return {
    type: f.type,
    to: f.to ?? NONE,
    from: f.from ?? NONE,
    term: f.term ?? 0,
    logTerm: f.logTerm ?? 0,
    index: f.index ?? 0,
    entries: f.entries ?? [],
    commit: f.commit ?? 0,
    snapshot: f.snapshot,
    reject: f.reject ?? false,
    rejectHint: f.rejectHint ?? 0,
    context: f.context,
  };
}

/** Builds a Normal entry (term/index are assigned by the leader on append). */
export function newEntry(data: Uint8Array = EMPTY_BYTES, type: EntryType = EntryType.Normal, term = 0, index = 0): Entry {
  return { term, index, type, data };
}

export function emptyConfState(): ConfState {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
}

export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === NONE && hs.commit === 0;
}

export function isEmptySnapshot(snap: Snapshot | undefined): boolean {
  return snap === undefined || snap.metadata.index === 0;
}

export function emptySnapshot(): Snapshot {
  return { data: EMPTY_BYTES, metadata: { confState: emptyConfState(), index: 0, term: 0 } };
}
