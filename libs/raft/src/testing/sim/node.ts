// One simulated member: a RawNode, the MemoryStorage it reads, a copy of what it made durable,
// and its state machine. A crash throws away everything but `durable`; a restart rebuilds
// storage and state machine from it, as a real member would from its WAL and snapshot file.
import { RawNode } from '../../rawnode';
import { MemoryStorage } from '../../storage';
import { decodeEntryConfChange } from '../../confchange-codec';
import {
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Ready,
  type Snapshot,
  EntryType,
  StateType,
  isEmptySnapshot,
} from '../../types';
import type { LogView, SafetyChecker } from './checkers';
import { SimStateMachine } from './state-machine';

/** The only state that survives a crash: what was persisted from Ready (and snapshots the node took). */
export interface DurableState {
  hardState: HardState;
  snapshot: Snapshot;
  /** Persisted entries after snapshot.metadata.index, contiguous. */
  entries: Entry[];
}

export interface RaftTuning {
  electionTick: number;
  heartbeatTick: number;
  preVote: boolean;
  checkQuorum: boolean;
  maxSizePerMsg: number;
  maxInflightMsgs: number;
}

/**
 * Deliberate bugs for testing the checkers end to end: 'amnesia' restarts a node with its
 * bootstrap state (it forgets its term, vote and log); 'forget-vote' loses only the vote.
 */
export type SimMutation = 'amnesia' | 'forget-vote';

export interface NodeHost {
  mutation?: SimMutation;
  checker: SafetyChecker;
  send(from: bigint, messages: Message[]): void;
  trace(line: string): void;
  /** A fresh seeded generator for the node's election timeouts. */
  random(): () => number;
}

const decoder = new TextDecoder();
const PROPOSAL_PREFIX = 'p';

/** Identity of an entry's payload, for the checkers. */
export function entryKey(e: Entry): string {
  if (e.type === EntryType.Normal) return e.data.length === 0 ? 'empty' : decoder.decode(e.data);
  const cc = decodeEntryConfChange(e);
  return `cc(${cc.transition}:${cc.changes.map((c) => `${c.type}/${c.nodeId}`).join(',')})`;
}

export class SimNode {
  raw: RawNode | undefined;
  private storage = new MemoryStorage();
  private sm = new SimStateMachine();
  /** Configuration as of the last applied conf change (or snapshot). */
  confState: ConfState;
  role = StateType.Follower;
  /** Highest commit index already reported to the checker. */
  private commitSeen = 0;

  constructor(
    readonly id: bigint,
    readonly durable: DurableState,
    private readonly tuning: RaftTuning,
    private readonly host: NodeHost,
  ) {
    this.confState = durable.snapshot.metadata.confState;
    this.bootstrap = { snapshot: durable.snapshot, hardState: { ...durable.hardState }, entries: [...durable.entries] };
  }

  get alive(): boolean {
    return this.raw !== undefined;
  }

  get applied(): number {
    return this.sm.appliedIndex;
  }

  get stateMachine(): SimStateMachine {
    return this.sm;
  }

  get lastIndex(): number {
    return this.storage.lastIndex();
  }

  get term(): number {
    return this.durable.hardState.term;
  }

  /** (Re)starts from durable state only. */
  start(): void {
    this.applyMutation();
    const { snapshot, hardState, entries } = this.durable;
    this.storage = new MemoryStorage();
    if (!isEmptySnapshot(snapshot)) this.storage.applySnapshot(snapshot);
    this.storage.setHardState(hardState);
    this.storage.append(entries);
    this.sm = SimStateMachine.decode(snapshot.data);
    // Going back to an older configuration on restart removes nobody: no setConf here.
    this.confState = snapshot.metadata.confState;
    this.role = StateType.Follower;
    this.commitSeen = snapshot.metadata.index;
    this.raw = new RawNode({
      id: this.id,
      electionTick: this.tuning.electionTick,
      heartbeatTick: this.tuning.heartbeatTick,
      storage: this.storage,
      applied: snapshot.metadata.index,
      preVote: this.tuning.preVote,
      checkQuorum: this.tuning.checkQuorum,
      maxSizePerMsg: this.tuning.maxSizePerMsg,
      maxInflightMsgs: this.tuning.maxInflightMsgs,
      random: this.host.random(),
    });
    this.host.checker.observeRestart(this.id, this.sm.appliedIndex, this.sm.digest);
  }

  /** The state the node was created with (used by the 'amnesia' mutation only). */
  private readonly bootstrap: DurableState;

  private applyMutation(): void {
    if (this.host.mutation === 'amnesia') {
      this.durable.hardState = { ...this.bootstrap.hardState };
      this.durable.snapshot = this.bootstrap.snapshot;
      this.durable.entries = [];
    } else if (this.host.mutation === 'forget-vote') {
      this.durable.hardState = { ...this.durable.hardState, vote: 0n };
    }
  }

  crash(): void {
    this.raw = undefined;
    this.role = StateType.Follower;
  }

  /** Handles one Ready: persist, send, apply, advance. Returns false if there was none. */
  processReady(): boolean {
    const raw = this.raw;
    if (raw === undefined || !raw.hasReady()) return false;
    const rd = raw.ready();
    this.persist(rd);
    if (rd.softState !== undefined) this.role = rd.softState.raftState;
    this.reportCommits();
    if (this.role === StateType.Leader) this.host.checker.observeLeader(this.id, this.term, this.logView());
    this.host.send(this.id, rd.messages);
    for (const e of rd.committedEntries) this.apply(raw, e);
    raw.advance(rd);
    return true;
  }

  private persist(rd: Ready): void {
    if (rd.snapshot !== undefined && !isEmptySnapshot(rd.snapshot)) this.installSnapshot(rd.snapshot);
    if (rd.entries.length > 0) this.appendEntries(rd.entries);
    if (rd.hardState !== undefined) {
      this.storage.setHardState(rd.hardState);
      this.durable.hardState = { ...rd.hardState };
    }
  }

  private installSnapshot(snap: Snapshot): void {
    this.storage.applySnapshot(snap);
    this.durable.snapshot = snap;
    this.durable.entries = [];
    this.sm = SimStateMachine.decode(snap.data);
    this.setConf(snap.metadata.confState);
    this.host.trace(`${this.id} installs snapshot ${snap.metadata.index}/${snap.metadata.term}`);
    this.host.checker.observeRestore(this.id, snap.metadata.index, this.sm.digest);
    this.commitSeen = Math.max(this.commitSeen, snap.metadata.index);
  }

  private appendEntries(entries: Entry[]): void {
    this.storage.append(entries);
    const durable = this.durable;
    const first = entries[0]!.index;
    const base = durable.snapshot.metadata.index;
    // Truncate the durable suffix the new entries overwrite, then append (mirrors MemoryStorage.append).
    const keep = Math.max(0, first - base - 1);
    if (keep < durable.entries.length) durable.entries.length = keep;
    for (const e of entries) {
      if (e.index <= base) continue;
      durable.entries.push(e);
      const prevTerm = this.storage.term(e.index - 1);
      this.host.checker.observeEntry(this.id, e.index, e.term, entryKey(e), prevTerm);
    }
  }

  private reportCommits(): void {
    const commit = this.durable.hardState.commit;
    const first = this.storage.firstIndex();
    for (let i = Math.max(this.commitSeen + 1, first); i <= commit; i++) {
      this.host.checker.observeCommitted(this.id, i, this.storage.term(i), this.term);
    }
    if (commit > this.commitSeen) this.commitSeen = commit;
  }

  private apply(raw: RawNode, e: Entry): void {
    const key = entryKey(e);
    const proposal = e.type === EntryType.Normal && key.startsWith(PROPOSAL_PREFIX) ? key : undefined;
    if (e.type !== EntryType.Normal) {
      this.setConf(raw.applyConfChange(decodeEntryConfChange(e)));
      this.host.trace(`${this.id} applies conf change at ${e.index}: ${key} -> ${describeConf(this.confState)}`);
    }
    // A duplicated forwarded proposal can legitimately be committed twice (Raft is
    // at-least-once); the state machine keeps only the first, as a client-deduplicating app would.
    const fresh = this.sm.apply(e.index, key, proposal);
    this.host.checker.observeApply(this.id, e.index, key, this.sm.digest);
    if (proposal !== undefined && fresh) this.host.checker.observeAcknowledged(proposal, e.index);
  }

  /**
   * IDs this node saw leave its configuration. Like etcd's membership store, this survives
   * restarts, and the transport refuses messages from these IDs (etcd answers 410 Gone):
   * a removed node that never learnt of its removal must not keep bumping the terms of
   * the members (a learner stuck at a higher term would otherwise ignore its leader forever).
   */
  readonly removedIds = new Set<bigint>();

  private setConf(next: ConfState): void {
    const members = new Set(membersOf(next));
    for (const id of membersOf(this.confState)) if (!members.has(id)) this.removedIds.add(id);
    this.confState = next;
  }

  /** Whether the log holds a conf change not applied yet (raft accepts one at a time). */
  hasUnappliedConfChange(): boolean {
    const applied = this.sm.appliedIndex;
    for (let i = this.durable.entries.length - 1; i >= 0; i--) {
      const e = this.durable.entries[i]!;
      if (e.index <= applied) break;
      if (e.type !== EntryType.Normal) return true;
    }
    return false;
  }

  /** Snapshots the state machine at the applied index and releases log entries before it. */
  compact(keepEntries: number): boolean {
    const applied = this.sm.appliedIndex;
    if (this.raw === undefined || applied <= this.durable.snapshot.metadata.index) return false;
    const snap = this.storage.createSnapshot(applied, this.confState, this.sm.encode());
    this.durable.snapshot = snap;
    const compactTo = applied - keepEntries;
    if (compactTo > this.storage.firstIndex()) this.storage.compact(compactTo);
    // Durably, the snapshot replaces every entry up to its index.
    this.durable.entries = this.durable.entries.filter((e) => e.index > applied);
    this.host.trace(`${this.id} compacts: snapshot at ${applied}`);
    return true;
  }

  logView(): LogView {
    const storage = this.storage;
    const snap = storage.snapshot().metadata;
    return {
      snapshotIndex: snap.index,
      snapshotTerm: snap.term,
      lastIndex: storage.lastIndex(),
      termAt(index: number): number | undefined {
        if (index < storage.firstIndex() - 1 || index > storage.lastIndex()) return undefined;
        return storage.term(index);
      },
    };
  }

  /** One-line summary for traces. */
  describe(): string {
    if (this.raw === undefined) return `${this.id}: down (durable term ${this.term}, snapshot ${this.durable.snapshot.metadata.index})`;
    const hs = this.durable.hardState;
    return `${this.id}: ${StateType[this.role]} term=${hs.term} commit=${hs.commit} applied=${this.applied} last=${this.storage.lastIndex()} conf=${describeConf(this.confState)}`;
  }
}

export function membersOf(c: ConfState): bigint[] {
  return [...c.voters, ...c.learners, ...c.votersOutgoing, ...c.learnersNext];
}

export function describeConf(c: ConfState): string {
  const ids = (xs: bigint[]): string => xs.map(String).join(',');
  let out = `voters=(${ids(c.voters)})`;
  if (c.votersOutgoing.length > 0) out += `&&(${ids(c.votersOutgoing)})`;
  if (c.learners.length > 0) out += ` learners=(${ids(c.learners)})`;
  if (c.learnersNext.length > 0) out += ` learners_next=(${ids(c.learnersNext)})`;
  if (c.autoLeave) out += ' autoleave';
  return out;
}
