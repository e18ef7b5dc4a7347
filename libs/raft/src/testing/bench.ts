// Throughput of the Raft state machine alone: a 3-node cluster in one process, messages
// delivered synchronously, storage in memory, no I/O. The leader is given `batch` proposals
// at a time, so one Ready carries many entries (as a member batching client requests would).
// What is measured is the library's CPU cost per committed entry on all three nodes.
import { RawNode } from '../rawnode';
import { MemoryStorage } from '../storage';
import { type ConfState, type Message, StateType, emptyConfState } from '../types';

export interface BenchOptions {
  /** Entries to commit (after warm-up). */
  entries: number;
  /** Proposals handed to the leader before its Ready is handled. */
  batch: number;
  payloadBytes: number;
  /** Hand each batch over in one proposeBatch call (one append, one broadcast) instead of one propose per entry. */
  proposeBatch: boolean;
}

export interface BenchResult {
  entries: number;
  seconds: number;
  entriesPerSecond: number;
  microsPerEntry: number;
  /** CPU time (user + system) per entry: steadier than wall time on a shared machine. */
  cpuMicrosPerEntry: number;
  readies: number;
  messages: number;
}

interface BenchNode {
  raw: RawNode;
  storage: MemoryStorage;
  applied: number;
}

class BenchCluster {
  readonly nodes = new Map<bigint, BenchNode>();
  private queue: Message[] = [];
  readies = 0;
  messages = 0;

  constructor(size: number) {
    const voters = Array.from({ length: size }, (_, i) => BigInt(i + 1));
    const conf: ConfState = { ...emptyConfState(), voters };
    for (const id of voters) {
      const storage = new MemoryStorage();
      storage.applySnapshot({ data: new Uint8Array(0), metadata: { index: 1, term: 1, confState: conf } });
      storage.setHardState({ term: 1, vote: 0n, commit: 1 });
      const raw = new RawNode({ id, storage, applied: 1, electionTick: 10, heartbeatTick: 1, random: () => 0, maxInflightMsgs: 256 });
      this.nodes.set(id, { raw, storage, applied: 1 });
    }
  }

  node(id: bigint): BenchNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  /** Handles Readies and delivers messages until the cluster is quiet. */
  pump(): void {
    for (;;) {
      let moved = false;
      for (const n of this.nodes.values()) {
        if (!n.raw.hasReady()) continue;
        moved = true;
        const rd = n.raw.ready();
        this.readies++;
        if (rd.entries.length > 0) n.storage.append(rd.entries);
        if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
        for (const m of rd.messages) this.queue.push(m);
        const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1];
        if (lastCommitted !== undefined) n.applied = lastCommitted.index;
        n.raw.advance(rd);
      }
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) {
        moved = true;
        this.messages++;
        this.node(m.to).raw.step(m);
      }
      if (!moved) return;
    }
  }
}

/** Clocks injected by the caller (this module does no I/O): wall time in ms, CPU time in µs. */
export interface BenchClocks {
  wallMillis(): number;
  cpuMicros(): number;
}

/** Elects node 1, commits `options.entries` entries in batches, and times it. */
export function runThroughputBench(options: BenchOptions, clocks: BenchClocks): BenchResult {
  const cluster = new BenchCluster(3);
  const leader = cluster.node(1n);
  leader.raw.campaign();
  cluster.pump();
  if (leader.raw.status().softState.raftState !== StateType.Leader) throw new Error('bench: node 1 did not become leader');
  const payload = new Uint8Array(options.payloadBytes).fill(120);
  const commitAll = (count: number): void => {
    const target = leader.applied + count;
    while (leader.applied < target) {
      const n = Math.min(options.batch, target - leader.applied);
      if (options.proposeBatch) leader.raw.proposeBatch(Array.from({ length: n }, () => payload));
      else for (let i = 0; i < n; i++) leader.raw.propose(payload);
      cluster.pump();
    }
  };
  commitAll(Math.min(10_000, options.entries)); // warm-up: let the JIT settle
  cluster.readies = 0;
  cluster.messages = 0;
  const started = clocks.wallMillis();
  const cpuStarted = clocks.cpuMicros();
  commitAll(options.entries);
  const seconds = (clocks.wallMillis() - started) / 1000;
  const cpuMicros = clocks.cpuMicros() - cpuStarted;
  for (const n of cluster.nodes.values()) {
    if (n.applied !== leader.applied) throw new Error(`bench: node applied ${n.applied}, leader ${leader.applied}`);
  }
  return {
    entries: options.entries,
    seconds,
    entriesPerSecond: options.entries / seconds,
    microsPerEntry: (seconds * 1e6) / options.entries,
    cpuMicrosPerEntry: cpuMicros / options.entries,
    readies: cluster.readies,
    messages: cluster.messages,
  };
}

export function formatBenchResult(o: BenchOptions, r: BenchResult): string {
  return (
    `raft throughput (3 nodes in one process, batch ${o.batch} via ${o.proposeBatch ? 'proposeBatch' : 'propose x N'}, payload ${o.payloadBytes} B): ` +
    `${r.entries} entries in ${r.seconds.toFixed(3)} s = ${Math.round(r.entriesPerSecond)} entries/s, ` +
    `${r.microsPerEntry.toFixed(2)} µs/entry wall, ${r.cpuMicrosPerEntry.toFixed(2)} µs/entry CPU (${r.readies} Readies, ${r.messages} messages)`
  );
}
