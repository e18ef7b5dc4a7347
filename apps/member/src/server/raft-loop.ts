// The consensus loop: ticks raft on a timer and turns each Ready into persisted log, sent
// messages and applied entries. Runs one Ready at a time; proposals that arrive while a Ready is
// being persisted wait in raft's unstable log and are persisted together in the next Ready, so
// concurrent writers share one fsync (group commit) and one apply batch.
import { EntryType, StateType, type Entry, type HardState, type Message, type ReadState, type Ready, type SoftState } from '@keel/raft';
import type { DurableLog, EntryApplier, LogMirror, MessageSender, RaftNodePort } from './ports';
import * as tfs from 'node:fs';

// TEMPORARY latency tracer (KEEL_TRACE=dir): remove before commit.
const traceDir = process.env['KEEL_TRACE'];
let traceBuf: string[] = [];
export function ptrace(what: string): void {
  if (traceDir === undefined) return;
  traceBuf.push(`${(Number(process.hrtime.bigint()) / 1e6).toFixed(3)} ${what}`);
  if (traceBuf.length >= 2000) {
    tfs.appendFileSync(`${traceDir}/${process.pid}.log`, traceBuf.join('\n') + '\n');
    traceBuf = [];
  }
}
const mdesc = (ms: readonly Message[]): string => ms.map((m) => `${m.type}>${m.to}:i${m.index}c${m.commit}n${m.entries.length}${m.reject ? 'R' : ''}`).join(',');

export interface RaftLoopEvents {
  onSoftState?(state: SoftState): void;
  onHardState?(state: HardState): void;
  /** Read states are handed over after the Ready's committed entries are applied. */
  onReadStates?(states: ReadState[]): void;
  /** Called after each applied batch with the highest applied index. */
  onApplied?(index: number): void;
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
    ptrace('kick');
    setImmediate(() => {
      ptrace('drain');
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

  private async handleReady(rd: Ready): Promise<void> {
    const { durableLog, logMirror, sender, applier, events, node } = this.deps;
    if (traceDir !== undefined) ptrace(`rd e${rd.entries.map((e) => e.index).join('/')} c${rd.committedEntries.map((e) => e.index).join('/')} sync${rd.mustSync} hs${rd.hardState ? 'c' + rd.hardState.commit : '-'} rs${rd.readStates.length} m[${mdesc(rd.messages)}]`);
    if (rd.softState) {
      this.isLeader = rd.softState.raftState === StateType.Leader;
      events.onSoftState?.(rd.softState);
    }
    // A leader may send before its own fsync (the entries count toward commit only once it has
    // persisted them itself); a follower must persist before acknowledging.
    if (this.isLeader) sender.send(rd.messages);
    ptrace('sent');
    if (rd.snapshot && rd.snapshot.metadata.index > 0) {
      await durableLog.saveSnapshot(rd.snapshot);
      logMirror.applySnapshot(rd.snapshot);
      await applier.applySnapshot(rd.snapshot);
      this.appliedIndex = rd.snapshot.metadata.index;
    }
    // Committed entries this member already holds durably (below the Ready's first new entry)
    // are applied while the WAL write is in flight, as etcd applies in parallel with its raft
    // storage save: they are on a quorum's disks, so answering their clients cannot get ahead
    // of durability. Entries that arrive in this Ready are applied only after it is saved.
    const { early, late } = splitCommitted(rd);
    const saving = durableLog.save(rd.hardState, rd.entries, rd.mustSync);
    ptrace('submitted');
    if (early.length > 0) await Promise.all([saving, applier.applyEntries(early)]);
    else await saving;
    ptrace('saved');
    if (rd.hardState) {
      logMirror.setHardState(rd.hardState);
      events.onHardState?.(rd.hardState);
    }
    logMirror.append(rd.entries);
    if (!this.isLeader) sender.send(rd.messages);
    // Entries at or below the store's applied index come back after a restart; the applier
    // skips their data effects but still replays conf changes into raft and the member list.
    if (late.length > 0) await applier.applyEntries(late);
    if (rd.committedEntries.length > 0) {
      ptrace('applied');
      this.appliedIndex = Math.max(this.appliedIndex, rd.committedEntries[rd.committedEntries.length - 1]!.index);
      events.onApplied?.(this.appliedIndex);
    }
    if (rd.readStates.length > 0) events.onReadStates?.(rd.readStates);
    node.advance(rd);
    ptrace('adv');
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
