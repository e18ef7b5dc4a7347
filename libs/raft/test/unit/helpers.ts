// Test scaffolding for Raft-level unit tests: build Raft instances over MemoryStorage and
// deliver their messages through an in-memory network with drop/cut/isolate controls.
import { step, tick } from '../../src/core/step';
import { Raft } from '../../src/core/raft';
import { createRandom } from '../../src/random';
import { MemoryStorage } from '../../src/storage';
import {
  type Config,
  type Entry,
  type Message,
  EntryType,
  MessageType,
  emptyConfState,
  newMessage,
} from '../../src/types';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

export function ids(...ns: number[]): bigint[] {
  return ns.map((n) => BigInt(n));
}

export function storageWithPeers(voters: bigint[], learners: bigint[] = []): MemoryStorage {
  return MemoryStorage.withConfState({ ...emptyConfState(), voters, learners });
}

export interface TestRaftOptions extends Partial<Omit<Config, 'id' | 'storage'>> {
  learners?: bigint[];
  storage?: MemoryStorage;
}

export function newTestRaft(id: bigint, peers: bigint[], opts: TestRaftOptions = {}): Raft {
  const { learners, storage, ...rest } = opts;
  return new Raft({
    id,
    electionTick: 10,
    heartbeatTick: 1,
    storage: storage ?? storageWithPeers(peers, learners ?? []),
    maxInflightMsgs: 256,
    random: createRandom(id),
    ...rest,
  });
}

/** Takes (and clears) the messages a Raft has queued. */
export function readMessages(r: Raft): Message[] {
  const msgs = r.msgs;
  r.msgs = [];
  return msgs;
}

export function entry(term: number, index: number, data = ''): Entry {
  return { term, index, type: EntryType.Normal, data: enc(data) };
}

/** Persists unstable entries and marks committed ones applied, like an application would. */
export function persistAndApply(r: Raft, storage: MemoryStorage): void {
  const snap = r.raftLog.unstable.snapshot;
  if (snap !== undefined) {
    storage.applySnapshot(snap);
    r.raftLog.stableSnapTo(snap.metadata.index);
    r.raftLog.appliedTo(snap.metadata.index);
  }
  const unstable = r.raftLog.unstableEntries();
  if (unstable.length > 0) {
    storage.append(unstable);
    const last = unstable[unstable.length - 1]!;
    r.raftLog.stableTo(last.index, last.term);
  }
  if (r.raftLog.committed > r.raftLog.applied) r.raftLog.appliedTo(r.raftLog.committed);
}

export function stepMsg(r: Raft, m: Partial<Message> & { type: MessageType }): void {
  step(r, newMessage(m));
}

export function propose(r: Raft, data: string): void {
  step(r, newMessage({ type: MessageType.Prop, from: r.id, entries: [{ term: 0, index: 0, type: EntryType.Normal, data: enc(data) }] }));
}

/** Entries of the log as "term/index" strings for compact assertions. */
export function logSummary(r: Raft): string[] {
  return r.raftLog.allEntries().map((e) => `${e.term}/${e.index}`);
}

type Filter = (m: Message) => boolean;

/**
 * Synchronous network: send() delivers messages breadth-first until quiescent. Messages whose
 * (from,to) link is cut, whose type is ignored, or that a filter rejects are dropped.
 */
export class Network {
  readonly peers = new Map<bigint, Raft>();
  readonly storages = new Map<bigint, MemoryStorage>();
  private readonly cuts = new Set<string>();
  private readonly ignored = new Set<MessageType>();
  private filter: Filter | undefined;
  /** Every message delivered, for assertions. */
  readonly delivered: Message[] = [];

  constructor(count: number, opts: TestRaftOptions = {}) {
    const all = Array.from({ length: count }, (_, i) => BigInt(i + 1));
    for (const id of all) {
      const storage = storageWithPeers(all);
      this.storages.set(id, storage);
      this.peers.set(id, newTestRaft(id, all, { ...opts, storage }));
    }
  }

  static of(rafts: Raft[], storages: MemoryStorage[]): Network {
    const net = new Network(0);
    rafts.forEach((r, i) => {
      net.peers.set(r.id, r);
      net.storages.set(r.id, storages[i]!);
    });
    return net;
  }

  node(id: number | bigint): Raft {
    return this.peers.get(BigInt(id))!;
  }

  send(...msgs: Message[]): void {
    const queue = [...msgs];
    let steps = 0;
    while (queue.length > 0) {
      if (++steps > 100_000) throw new Error('network did not quiesce');
      const m = queue.shift()!;
      const target = this.peers.get(m.to);
      if (target === undefined || this.dropped(m)) continue;
      this.delivered.push(m);
      step(target, m);
      this.persist(target);
      queue.push(...readMessages(target));
    }
  }

  /** Starts an election on `id`. */
  campaign(id: number | bigint): void {
    this.send(newMessage({ type: MessageType.Hup, from: BigInt(id), to: BigInt(id) }));
  }

  propose(id: number | bigint, data: string): void {
    this.send(newMessage({
      type: MessageType.Prop, from: BigInt(id), to: BigInt(id),
      entries: [{ term: 0, index: 0, type: EntryType.Normal, data: enc(data) }],
    }));
  }

  /** Ticks one node and delivers what it sends. */
  tick(id: number | bigint, times = 1): void {
    const r = this.node(id);
    for (let i = 0; i < times; i++) {
      tick(r);
      this.persist(r);
      this.send(...readMessages(r));
    }
  }

  cut(a: number, b: number): void {
    this.cuts.add(`${a}-${b}`);
    this.cuts.add(`${b}-${a}`);
  }

  isolate(id: number): void {
    for (const other of this.peers.keys()) if (other !== BigInt(id)) this.cut(id, Number(other));
  }

  ignore(type: MessageType): void {
    this.ignored.add(type);
  }

  setFilter(filter: Filter | undefined): void {
    this.filter = filter;
  }

  recover(): void {
    this.cuts.clear();
    this.ignored.clear();
    this.filter = undefined;
  }

  private dropped(m: Message): boolean {
    if (this.cuts.has(`${m.from}-${m.to}`)) return true;
    if (this.ignored.has(m.type)) return true;
    return this.filter !== undefined && !this.filter(m);
  }

  private persist(r: Raft): void {
    const storage = this.storages.get(r.id);
    if (storage !== undefined) persistAndApply(r, storage);
  }
}
