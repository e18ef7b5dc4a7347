// The consensus loop: ticks raft on a timer and turns each Ready into persisted log, sent
// messages and applied entries. Runs one Ready at a time; proposals that arrive while a Ready is
// being persisted wait in raft's unstable log and are persisted together in the next Ready, so
// concurrent writers share one fsync (group commit) and one apply batch.
import { EntryType, StateType, type Entry, type HardState, type Message, type ReadState, type Ready, type SoftState } from '@keel/raft';
import type { DurableLog, EntryApplier, LogMirror, MessageSender, RaftNodePort, ReplySending } from './ports';

export interface RaftLoopEvents {
  onSoftState?(state: SoftState): void;
  onHardState?(state: HardState): void;
  /** Read states are handed over after the Ready's committed entries are applied. */
  onReadStates?(states: ReadState[]): void;
  /** Called after each applied batch with the highest applied index. */
  onApplied?(index: number): void;
  /**
   * Called when calls answered by an apply have had ANSWER_HOPS promise hops to queue their
   * replies, before the loop goes on: the place to put those replies on the wire.
   */
  onAnswersQueued?(): void;
  onFatal?(error: Error): void;
}

export interface RaftLoopDeps {
  node: RaftNodePort;
  durableLog: DurableLog;
  logMirror: LogMirror;
  sender: MessageSender;
  applier: EntryApplier;
  tickIntervalMs: number;
  events: RaftLoopEvents;
}

/**
 * Promise hops between an apply resolving its calls' waits and those calls queueing their
 * replies that the loop allows for. A unary put needs four today (counted with
 * rpc/h2/writer.ts answerFlushes: with two, 0 of 3,000 flushes found the reply, with four all
 * but the first); six leaves room, and test/inprocess.test.ts fails if a put needs more.
 */
const ANSWER_HOPS = 6;

/**
 * A leader's Ready whose committed entries must wait for its own save (on a single member, every
 * Ready that commits; on more, conf changes) answers at once when it applies at most this many:
 * a lone client is waiting. Larger batches come with load, where the replies leave at the
 * connections' scheduled flush, one write per connection for the turn.
 */
const PROMPT_ANSWER_ENTRIES_MAX = 8;

/**
 * Up to this many entries, a leader's batch answers before its store write (see
 * apply/entry-applier.ts): 3 members, 1 client, 36 alternating pairs of 3,000 puts, 993 vs 966
 * puts/s (1.03x). Larger batches come with load and answer after the write, as before: at 1000
 * clients, runs of one build differed too much (p99 109 to 648 ms) to show either order better.
 */
const ANSWER_BEFORE_STORE_WRITE_ENTRIES_MAX = PROMPT_ANSWER_ENTRIES_MAX;

export class RaftLoop {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private scheduled = false;
  private stopped = false;
  private isLeader = false;
  private appliedIndex: number;

  constructor(
    private readonly deps: RaftLoopDeps,
    appliedIndex: number,
  ) {
    this.appliedIndex = appliedIndex;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.deps.node.tick();
      this.kick();
    }, this.deps.tickIntervalMs);
    this.kick();
  }

  /** Stops ticking; a Ready in progress finishes. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    while (this.running) await new Promise((r) => setTimeout(r, 5));
  }

  get applied(): number {
    return this.appliedIndex;
  }

  /** Asks the loop to look for a Ready soon (after the current turn's proposals are in). */
  kick(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  step(message: Message): void {
    if (this.stopped) return;
    this.deps.node.step(message);
    this.kick();
  }

  private async drain(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      while (!this.stopped && this.deps.node.hasReady()) {
        await this.handleReady(this.deps.node.ready());
      }
    } catch (error) {
      this.stopped = true;
      if (this.timer) clearInterval(this.timer);
      this.deps.events.onFatal?.(error as Error);
    } finally {
      this.running = false;
    }
  }

  /**
   * Puts the replies of a leader's commit-only Ready (and of a single member's small Ready) on
   * the wire before its store write, commit notices and hard-state write (the applier calls it
   * once the batch's calls are answered). Otherwise they leave at the
   * connections' scheduled flush, one poll phase after the Ready: a syscall trace of 3-member
   * 1-client puts showed the reply 230 µs (median) after the apply's RocksDB write, behind two
   * peer writes, the hard-state pwrite and a follower read. Best effort: a reply not queued
   * within ANSWER_HOPS hops leaves at that flush, as before. Not after every applying Ready:
   * yielding a whole turn there was no better at 1 client and cost p99 at 1000.
   */
  private readonly sendAnswers = async (): Promise<void> => {
    for (let hop = 0; hop < ANSWER_HOPS; hop++) await null;
    this.deps.events.onAnswersQueued?.();
  };

  private readonly repliesFirst: ReplySending = { send: this.sendAnswers, beforeStoreWrite: true };
  private readonly repliesAfterWrite: ReplySending = { send: this.sendAnswers, beforeStoreWrite: false };

  private replies(entries: number): ReplySending {
    return entries <= ANSWER_BEFORE_STORE_WRITE_ENTRIES_MAX ? this.repliesFirst : this.repliesAfterWrite;
  }

  private async handleReady(rd: Ready): Promise<void> {
    const { durableLog, logMirror, sender, applier, events, node } = this.deps;
    if (rd.softState) {
      this.isLeader = rd.softState.raftState === StateType.Leader;
      events.onSoftState?.(rd.softState);
    }
    // Committed entries this member already holds durably (below the Ready's first new entry)
    // are applied while the WAL write is in flight, as etcd applies in parallel with its raft
    // storage save: they are on a quorum's disks, so answering their clients cannot get ahead
    // of durability. Entries that arrive in this Ready are applied only after it is saved.
    const { early, late } = splitCommitted(rd);
    // A leader may send before its own fsync (raft counts the leader's own copy as it appends,
    // thesis §10.2.1, so a quorum of followers' disks can commit it); a follower must persist
    // before acknowledging. The leader sends even before a commit-only apply: its commit
    // notices are held (./commit-notices) and cost nothing here, except the one a follower's
    // own waiting client needs, which should not wait for the leader's apply either.
    if (this.isLeader) sender.send(rd.messages);
    // A leader Ready with nothing new to persist or replicate (typically "entry N committed")
    // answers its clients before the hard-state write.
    const answerFirst = this.isLeader && rd.entries.length === 0 && early.length > 0;
    if (answerFirst) await applier.applyEntries(early, this.replies(early.length));
    if (rd.snapshot && rd.snapshot.metadata.index > 0) {
      await durableLog.saveSnapshot(rd.snapshot);
      logMirror.applySnapshot(rd.snapshot);
      await applier.applySnapshot(rd.snapshot);
      this.appliedIndex = rd.snapshot.metadata.index;
    }
    const saving = durableLog.save(rd.hardState, rd.entries, rd.mustSync);
    const applyingEarly = early.length > 0 && !answerFirst ? applier.applyEntries(early) : undefined;
    // Awaited below; until then a failure must not count as unhandled (the save is awaited first).
    applyingEarly?.catch(() => undefined);
    await saving;
    if (rd.hardState) {
      logMirror.setHardState(rd.hardState);
      events.onHardState?.(rd.hardState);
    }
    logMirror.append(rd.entries);
    // A follower acknowledges as soon as the entries are on its disk, not after the early apply:
    // the leader's commit (and so every client's answer) waits on this acknowledgement, while
    // the apply only has to finish before the next Ready (as etcd sends after its WAL save and
    // applies in another goroutine).
    if (!this.isLeader) sender.send(rd.messages);
    if (applyingEarly) await applyingEarly;
    // Entries at or below the store's applied index come back after a restart; the applier
    // skips their data effects but still replays conf changes into raft and the member list.
    if (late.length > 0) {
      const prompt = this.isLeader && late.length <= PROMPT_ANSWER_ENTRIES_MAX;
      await applier.applyEntries(late, prompt ? this.replies(late.length) : undefined);
    }
    if (rd.committedEntries.length > 0) {
      this.appliedIndex = Math.max(this.appliedIndex, rd.committedEntries[rd.committedEntries.length - 1]!.index);
      events.onApplied?.(this.appliedIndex);
    }
    if (rd.readStates.length > 0) events.onReadStates?.(rd.readStates);
    node.advance(rd);
  }
}

/**
 * Splits a Ready's committed entries into those safe to apply while its WAL write is in flight
 * and those that must wait for it. Safe: below the Ready's first unstable entry (so persisted by
 * an earlier Ready) and plain data entries (conf changes and snapshots keep the strict order).
 */
export function splitCommitted(rd: Ready): { early: Entry[]; late: Entry[] } {
  const committed = rd.committedEntries;
  if (committed.length === 0 || (rd.snapshot && rd.snapshot.metadata.index > 0)) return { early: [], late: committed };
  const firstUnstable = rd.entries.length > 0 ? rd.entries[0]!.index : Number.POSITIVE_INFINITY;
  let n = 0;
  while (n < committed.length && committed[n]!.index < firstUnstable && committed[n]!.type === EntryType.Normal) n++;
  if (n === 0) return { early: [], late: committed };
  return n === committed.length ? { early: committed, late: [] } : { early: committed.slice(0, n), late: committed.slice(n) };
}
