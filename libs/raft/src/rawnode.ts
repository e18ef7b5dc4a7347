// The application-facing handle: inputs in, Ready out, advance() to acknowledge.
import { encodeAnyConfChange, encodeConfChange, toConfChangeV2 } from './confchange-codec';
import { applyConfChange as applyConfChangeToRaft, maybeAutoLeaveJoint } from './core/conf';
import { maybeCampaignAfterApply } from './core/election';
import { Raft } from './core/raft';
import { bcastHeartbeat } from './core/replication';
import { step as stepRaft, tick as tickRaft } from './core/step';
import { StepLocalMsgError, StepPeerNotFoundError, invariant } from './errors';
import {
  type ConfChange,
  type ConfChangeV2,
  type ConfState,
  type Config,
  type Entry,
  type HardState,
  type Message,
  type Peer,
  type ProgressStatus,
  type Ready,
  type SoftState,
  type Status,
  ConfChangeType,
  EntryType,
  MessageType,
  NONE,
  StateType,
  newMessage,
} from './types';
import { isLocalMsg, isResponseMsg } from './util';

const EMPTY_HARD_STATE: HardState = { term: 0, vote: NONE, commit: 0 };

/**
 * The application's handle on one Raft node: a deterministic state machine with no I/O.
 * Feed it time (tick), messages (step) and requests (propose, readIndex, ...); drain its output
 * with ready()/advance(). Not re-entrant; all methods are synchronous.
 *
 * Contract for each Ready: persist hardState, entries, snapshot (fsync if mustSync); then send
 * messages; then apply committedEntries (calling applyConfChange for conf change entries); then
 * advance(rd). ready() may not be called again before advance().
 */
export class RawNode {
  /** The underlying state machine (exposed for tests and tooling; not part of the stable API). */
  readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private outstanding: Ready | undefined;

  /** Creates a node from config.storage (restarting from its persisted state if non-empty). */
  constructor(config: Config) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  /** Advances logical time by one tick (election / heartbeat timers). */
  tick(): void {
    tickRaft(this.raft);
  }

  /** Starts an election now (pre-vote first if enabled). */
  campaign(): void {
    stepRaft(this.raft, newMessage({ type: MessageType.Hup, from: this.raft.id }));
  }

  /** Proposes `data` to be appended to the log. Throws ProposalDroppedError if it cannot be. */
  propose(data: Uint8Array): void {
    const entry: Entry = { term: 0, index: 0, type: EntryType.Normal, data };
    stepRaft(this.raft, newMessage({ type: MessageType.Prop, from: this.raft.id, entries: [entry] }));
  }

  /** Proposes a batch of entries in one message (one append, one broadcast). Throws ProposalDroppedError. */
  proposeBatch(datas: readonly Uint8Array[]): void {
    if (datas.length === 0) return;
    const entries = datas.map((data): Entry => ({ term: 0, index: 0, type: EntryType.Normal, data }));
    stepRaft(this.raft, newMessage({ type: MessageType.Prop, from: this.raft.id, entries }));
  }

  /** Proposes a configuration change. Throws ProposalDroppedError if it cannot be. */
  proposeConfChange(cc: ConfChange | ConfChangeV2): void {
    const { type, data } = encodeAnyConfChange(cc);
    const entry: Entry = { term: 0, index: 0, type, data };
    stepRaft(this.raft, newMessage({ type: MessageType.Prop, from: this.raft.id, entries: [entry] }));
  }

  /**
   * Feeds a message received from a peer. Throws StepLocalMsgError for local-only types,
   * StepPeerNotFoundError for a response from an unknown peer, and ProposalDroppedError for a
   * forwarded proposal this node cannot take (the caller may ignore it).
   */
  step(m: Message): void {
    if (isLocalMsg(m.type)) throw new StepLocalMsgError();
    if (isResponseMsg(m.type) && !this.raft.trk.progress.has(m.from)) throw new StepPeerNotFoundError();
    stepRaft(this.raft, m);
  }

  /** Whether ready() would return something worth handling. False while a Ready is outstanding. */
  hasReady(): boolean {
    const r = this.raft;
    if (this.outstanding !== undefined) return false;
    const soft = this.prevSoftState;
    if (r.lead !== soft.lead || r.state !== soft.raftState) return true;
    const hard = this.prevHardState;
    const commit = r.raftLog.committed;
    const hardChanged = r.term !== hard.term || r.vote !== hard.vote || commit !== hard.commit;
    if (hardChanged && (r.term !== 0 || r.vote !== NONE || commit !== 0)) return true;
    const log = r.raftLog;
    return log.unstable.snapshot !== undefined || r.msgs.length > 0 || log.unstable.entries.length > 0
      || log.hasNextCommittedEnts() || r.readStates.length > 0 || r.readIndexBroadcastPending;
  }

  /** Returns the pending output. Must be acknowledged with advance(rd) before the next ready(). */
  ready(): Ready {
    invariant(this.outstanding === undefined, 'ready() called again before advance()');
    const r = this.raft;
    if (r.readIndexBroadcastPending && r.state === StateType.Leader) bcastHeartbeat(r);
    r.readIndexBroadcastPending = false;
    const log = r.raftLog;
    const rd: Ready = {
      readStates: r.readStates,
      entries: log.unstableEntries().slice(),
      committedEntries: log.nextCommittedEnts(),
      messages: r.msgs,
      mustSync: false,
    };
    const soft = r.softState();
    if (!softStatesEqual(soft, this.prevSoftState)) {
      rd.softState = soft;
      this.prevSoftState = soft;
    }
    const hard = r.hardState();
    if (!hardStatesEqual(hard, this.prevHardState)) {
      rd.hardState = hard;
      rd.mustSync = hard.term !== this.prevHardState.term || hard.vote !== this.prevHardState.vote;
      this.prevHardState = hard;
    }
    if (rd.entries.length > 0) rd.mustSync = true;
    if (log.unstable.snapshot !== undefined) rd.snapshot = log.unstable.snapshot;
    // Accept: the output now belongs to the application.
    r.msgs = [];
    r.readStates = [];
    const committed = rd.committedEntries;
    if (committed.length > 0) {
      log.acceptApplying(committed[committed.length - 1]!.index);
      r.reduceUncommittedSize(committed);
    }
    this.outstanding = rd;
    return rd;
  }

  /** Acknowledges that rd was persisted, sent and applied. */
  advance(rd: Ready): void {
    invariant(this.outstanding === rd, 'advance() called with a Ready that is not the outstanding one');
    this.outstanding = undefined;
    const r = this.raft;
    if (rd.snapshot !== undefined) r.raftLog.stableSnapTo(rd.snapshot.metadata.index);
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1]!;
      r.raftLog.stableTo(last.index, last.term);
    }
    const committed = rd.committedEntries;
    if (committed.length > 0) {
      const applied = committed[committed.length - 1]!.index;
      r.raftLog.appliedTo(applied);
      maybeAutoLeaveJoint(r, applied);
      maybeCampaignAfterApply(r);
    } else if (rd.snapshot !== undefined) {
      // Installing a snapshot applies everything it covers.
      r.raftLog.appliedTo(rd.snapshot.metadata.index);
    }
  }

  /** Applies a committed conf change entry to the configuration; returns the new ConfState. */
  applyConfChange(cc: ConfChange | ConfChangeV2): ConfState {
    return applyConfChangeToRaft(this.raft, toConfChangeV2(cc));
  }

  /** Asks the leader to hand leadership to `to` (forwarded by followers). */
  transferLeader(to: bigint): void {
    stepRaft(this.raft, newMessage({ type: MessageType.TransferLeader, from: to }));
  }

  /**
   * Requests a linearizable read point; the answer arrives as a ReadState carrying ctx (on this
   * node, even when the leader is elsewhere). ctx must be unique among outstanding requests.
   * Dropped silently when there is no leader: retry on timeout.
   */
  readIndex(ctx: Uint8Array): void {
    const entry: Entry = { term: 0, index: 0, type: EntryType.Normal, data: ctx };
    stepRaft(this.raft, newMessage({ type: MessageType.ReadIndex, from: this.raft.id, entries: [entry] }));
  }

  /** Tells raft that the last message to `id` could not be delivered. */
  reportUnreachable(id: bigint): void {
    stepRaft(this.raft, newMessage({ type: MessageType.Unreachable, from: id }));
  }

  /** Tells raft how sending a snapshot to `id` ended. */
  reportSnapshot(id: bigint, failed: boolean): void {
    stepRaft(this.raft, newMessage({ type: MessageType.SnapStatus, from: id, reject: failed }));
  }

  status(): Status {
    const r = this.raft;
    const status: Status = {
      id: r.id,
      hardState: r.hardState(),
      softState: r.softState(),
      applied: r.raftLog.applied,
      leadTransferee: r.leadTransferee,
      config: r.trk.confState(),
    };
    if (r.state === StateType.Leader) {
      const progress = new Map<bigint, ProgressStatus>();
      r.trk.visit((id, pr) => {
        progress.set(id, {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          isLearner: pr.isLearner,
          recentActive: pr.recentActive,
          probeSent: pr.probeSent,
          pendingSnapshot: pr.pendingSnapshot,
          inflightCount: pr.inflights.count,
          inflightBytes: pr.inflights.bytes,
        });
      });
      status.progress = progress;
    }
    return status;
  }

  /**
   * Initialises a brand-new cluster: storage must be empty. Writes one committed AddNode conf
   * change per peer at term 1 and applies them, so the first Ready persists and re-delivers them
   * (re-applying them is harmless).
   */
  bootstrap(peers: Peer[]): void {
    if (peers.length === 0) throw new Error('must provide at least one peer to Bootstrap');
    const r = this.raft;
    if (r.raftLog.storage.lastIndex() !== 0) throw new Error("can't bootstrap a nonempty Storage");
    // Make sure the first Ready carries a HardState.
    this.prevHardState = EMPTY_HARD_STATE;
    r.becomeFollower(1, NONE);
    const ents: Entry[] = peers.map((p, i) => ({
      term: 1,
      index: i + 1,
      type: EntryType.ConfChange,
      data: encodeConfChange({ type: ConfChangeType.AddNode, nodeId: p.id, ...(p.context ? { context: p.context } : {}) }),
    }));
    r.raftLog.append(ents);
    // Committed but not applied: the application applies them from the first Ready.
    r.raftLog.committed = ents.length;
    for (const p of peers) this.applyConfChange({ type: ConfChangeType.AddNode, nodeId: p.id });
  }
}

function softStatesEqual(a: SoftState, b: SoftState): boolean {
  return a.lead === b.lead && a.raftState === b.raftState;
}

function hardStatesEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

