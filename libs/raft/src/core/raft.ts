// The Raft state machine's state and its role transitions (becomeX). Behaviour lives in sibling
// modules as functions of a Raft: step.ts (dispatch), election.ts, replication.ts, leader.ts,
// follower.ts, candidate.ts, read-index.ts, transfer.ts, snapshot.ts, conf.ts.
import { confStatesEqual, restoreConfig } from '../confchange/restore';
import { invariant } from '../errors';
import { RaftLog } from '../log/raft-log';
import { type Logger, silentLogger } from '../logger';
import { createRandom } from '../random';
import { ProgressTracker } from '../tracker/tracker';
import {
  type Config,
  type Entry,
  type HardState,
  type Message,
  type ReadState,
  type SoftState,
  EntryType,
  MessageType,
  NONE,
  ReadOnlyOption,
  StateType,
  isEmptyHardState,
} from '../types';
import { payloadsSize } from '../util';
import { switchToConfig } from './conf';
import { ReadOnly } from './read-only';

const DEFAULT_MAX_SIZE_PER_MSG = 1024 * 1024;
const DEFAULT_MAX_INFLIGHT_MSGS = 256;
const NO_LIMIT = Number.MAX_SAFE_INTEGER;

/** Resolved configuration with defaults applied. */
export interface ResolvedConfig {
  id: bigint;
  electionTick: number;
  heartbeatTick: number;
  applied: number;
  maxSizePerMsg: number;
  maxCommittedSizePerReady: number;
  maxUncommittedEntriesSize: number;
  maxInflightMsgs: number;
  maxInflightBytes: number;
  checkQuorum: boolean;
  preVote: boolean;
  readOnlyOption: ReadOnlyOption;
  disableProposalForwarding: boolean;
  random: () => number;
  logger: Logger;
}

export function resolveConfig(c: Config): ResolvedConfig {
  invariant(c.id !== NONE, 'cannot use none as id');
  invariant(c.heartbeatTick > 0, 'heartbeat tick must be greater than 0');
  invariant(c.electionTick > c.heartbeatTick, 'election tick must be greater than heartbeat tick');
  const maxSizePerMsg = c.maxSizePerMsg ?? DEFAULT_MAX_SIZE_PER_MSG;
  const maxInflightMsgs = c.maxInflightMsgs ?? DEFAULT_MAX_INFLIGHT_MSGS;
  invariant(maxInflightMsgs > 0, 'max inflight messages must be greater than 0');
  const readOnlyOption = c.readOnlyOption ?? ReadOnlyOption.Safe;
  const checkQuorum = c.checkQuorum ?? false;
  invariant(readOnlyOption !== ReadOnlyOption.LeaseBased || checkQuorum,
    'checkQuorum must be enabled when readOnlyOption is LeaseBased');
  return {
    id: c.id,
    electionTick: c.electionTick,
    heartbeatTick: c.heartbeatTick,
    applied: c.applied ?? 0,
    maxSizePerMsg,
    maxCommittedSizePerReady: c.maxCommittedSizePerReady ?? maxSizePerMsg,
    maxUncommittedEntriesSize: c.maxUncommittedEntriesSize || NO_LIMIT,
    maxInflightMsgs,
    maxInflightBytes: c.maxInflightBytes ?? 0,
    checkQuorum,
    preVote: c.preVote ?? false,
    readOnlyOption,
    disableProposalForwarding: c.disableProposalForwarding ?? false,
    random: c.random ?? createRandom(c.id),
    logger: c.logger ?? silentLogger,
  };
}

/** One node's Raft state. Not re-entrant; every mutation happens inside step()/tick(). */
export class Raft {
  readonly id: bigint;
  readonly cfg: ResolvedConfig;
  readonly logger: Logger;
  readonly raftLog: RaftLog;

  term = 0;
  vote: bigint = NONE;
  lead: bigint = NONE;
  state: StateType = StateType.Follower;
  /** This node is a learner in the current configuration (never campaigns). */
  isLearner = false;
  /** This node is in the current configuration (as voter or learner). */
  inConfig = false;
  trk: ProgressTracker;

  /** Outbound messages since the last Ready. */
  msgs: Message[] = [];
  /** Answers to ReadIndex requests since the last Ready. */
  readStates: ReadState[] = [];

  /** Leader: the node leadership is being handed to, or NONE. */
  leadTransferee: bigint = NONE;
  /** Leader: index of the latest conf change in the log; a new one may be proposed only once applied >= it. */
  pendingConfIndex = 0;
  /** Leader: payload bytes of uncommitted entries, bounded by maxUncommittedEntriesSize. */
  uncommittedSize = 0;
  readOnly: ReadOnly;
  /** Leader: ReadIndex requests received before an entry of this term committed; answered once one does. */
  pendingReadIndexMessages: Message[] = [];
  /** Leader: a heartbeat carrying the newest ReadIndex context must go out (batched per Ready). */
  readIndexBroadcastPending = false;

  /** Follower: got TimeoutNow while a committed conf change was unapplied; campaign once applied. */
  transferCampaignPending = false;

  /** Ticks since the last election timeout reset (followers: since hearing from the leader). */
  electionElapsed = 0;
  /** Leader: ticks since the last heartbeat broadcast. */
  heartbeatElapsed = 0;
  /** Election timeout for this term, uniform in [electionTick, 2*electionTick). */
  randomizedElectionTimeout = 0;

  constructor(config: Config) {
    this.cfg = resolveConfig(config);
    this.id = this.cfg.id;
    this.logger = this.cfg.logger;
    this.raftLog = new RaftLog(config.storage, this.cfg.maxCommittedSizePerReady);
    this.readOnly = new ReadOnly(this.cfg.readOnlyOption);
    const { hardState, confState } = config.storage.initialState();
    this.trk = new ProgressTracker(this.cfg.maxInflightMsgs, this.cfg.maxInflightBytes);
    const restored = restoreConfig(this.trk, this.raftLog.lastIndex(), confState);
    const cs = switchToConfig(this, restored.config, restored.progress);
    invariant(confStatesEqual(cs, confState), 'restored conf state differs from the stored one');
    if (!isEmptyHardState(hardState)) this.loadState(hardState);
    if (this.cfg.applied > 0) this.raftLog.appliedTo(this.cfg.applied);
    this.becomeFollower(this.term, NONE);
    this.logger.info(`raft ${this.id.toString(16)} started: term=${this.term} ${this.raftLog.toString()}`);
  }

  get electionTimeout(): number {
    return this.cfg.electionTick;
  }

  get heartbeatTimeout(): number {
    return this.cfg.heartbeatTick;
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  softState(): SoftState {
    return { lead: this.lead, raftState: this.state };
  }

  /**
   * Queues m for the next Ready. Stamps our ID unless `from` is set (a forwarded TransferLeader
   * names the transferee there), and our term except on Prop/ReadIndex, which travel termless.
   */
  send(m: Message): void {
    if (m.from === NONE) m.from = this.id;
    if (m.term === 0 && m.type !== MessageType.Prop && m.type !== MessageType.ReadIndex) m.term = this.term;
    this.msgs.push(m);
  }

  becomeFollower(term: number, lead: bigint): void {
    this.reset(term);
    this.lead = lead;
    this.state = StateType.Follower;
  }

  becomeCandidate(): void {
    invariant(this.state !== StateType.Leader, 'invalid transition [leader -> candidate]');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = StateType.Candidate;
    this.logger.info(`${this.id.toString(16)} became candidate at term ${this.term}`);
  }

  /** Pre-candidates do not bump the term nor change their vote (thesis §9.6). */
  becomePreCandidate(): void {
    invariant(this.state !== StateType.Leader, 'invalid transition [leader -> pre-candidate]');
    this.trk.resetVotes();
    this.lead = NONE;
    this.state = StateType.PreCandidate;
    this.logger.info(`${this.id.toString(16)} became pre-candidate at term ${this.term}`);
  }

  becomeLeader(): void {
    invariant(this.state !== StateType.Follower, 'invalid transition [follower -> leader]');
    this.reset(this.term);
    this.lead = this.id;
    this.state = StateType.Leader;
    const self = this.trk.progress.get(this.id);
    // The leader's own log is trivially in sync with itself.
    if (self !== undefined) {
      self.becomeReplicate();
      self.recentActive = true;
    }
    // Any conf change in the uncommitted tail may still be pending; be conservative.
    this.pendingConfIndex = this.raftLog.lastIndex();
    // §5.4.2 / thesis §6.4: an entry of the new term lets the leader commit (and learn) earlier entries.
    const appended = this.appendEntry([{ term: 0, index: 0, type: EntryType.Normal, data: new Uint8Array(0) }]);
    invariant(appended, 'empty entry was dropped');
    this.logger.info(`${this.id.toString(16)} became leader at term ${this.term}`);
  }

  reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.trk.resetVotes();
    const lastIndex = this.raftLog.lastIndex();
    for (const [id, pr] of this.trk.progress) {
      pr.becomeProbe();
      pr.match = id === this.id ? lastIndex : 0;
      pr.next = lastIndex + 1;
      pr.recentActive = false;
    }
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readOnly = new ReadOnly(this.cfg.readOnlyOption);
    this.pendingReadIndexMessages = [];
    this.readIndexBroadcastPending = false;
    this.transferCampaignPending = false;
  }

  /**
   * Leader: assigns term and index to `ents` and appends them to the log, self-acknowledging them
   * (the leader persists its log in parallel with replication, thesis §10.2.1). Returns false if
   * the uncommitted-size cap refused them.
   */
  appendEntry(ents: Entry[]): boolean {
    let li = this.raftLog.lastIndex();
    for (const e of ents) {
      e.term = this.term;
      e.index = ++li;
    }
    if (!this.increaseUncommittedSize(ents)) {
      this.logger.debug(`${this.id.toString(16)} appending new entries would exceed the uncommitted entry size limit; dropping proposal`);
      return false;
    }
    li = this.raftLog.append(ents);
    this.trk.progress.get(this.id)?.maybeUpdate(li);
    // A single-voter leader commits by appending.
    this.maybeCommit();
    return true;
  }

  resetRandomizedElectionTimeout(): void {
    const r = this.cfg.random();
    invariant(r >= 0 && r < 1, () => `random() returned ${r}, outside [0,1)`);
    this.randomizedElectionTimeout = this.electionTimeout + Math.floor(r * this.electionTimeout);
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  /** Whether this node may campaign: it is a voter and is not installing a snapshot. */
  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && this.raftLog.unstable.snapshot === undefined;
  }

  /** Whether the leader has committed an entry of its own term (needed before serving ReadIndex). */
  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.term(this.raftLog.committed) === this.term;
  }

  /** Leader: commits whatever a quorum has acknowledged. Returns whether commit advanced. */
  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.trk.committed(), this.term);
  }

  increaseUncommittedSize(ents: readonly Entry[]): boolean {
    const size = payloadsSize(ents);
    // Always admit a proposal when nothing is outstanding, so a single huge entry cannot wedge the leader.
    if (this.uncommittedSize > 0 && size > 0 && this.uncommittedSize + size > this.cfg.maxUncommittedEntriesSize) return false;
    this.uncommittedSize += size;
    return true;
  }

  /** Called as committed entries are handed to the application. */
  reduceUncommittedSize(ents: readonly Entry[]): void {
    if (this.uncommittedSize === 0) return; // followers, and the common case
    const size = payloadsSize(ents);
    this.uncommittedSize = size > this.uncommittedSize ? 0 : this.uncommittedSize - size;
  }

  loadState(hs: HardState): void {
    invariant(hs.commit >= this.raftLog.committed && hs.commit <= this.raftLog.lastIndex(),
      () => `${this.id.toString(16)} state.commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`);
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }
}
