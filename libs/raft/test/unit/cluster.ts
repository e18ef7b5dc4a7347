// A RawNode cluster driven through the full Ready/advance contract: persist to MemoryStorage,
// deliver messages, apply committed entries (conf changes via applyConfChange).
import { decodeEntryConfChange } from '../../src/confchange-codec';
import { RawNode } from '../../src/rawnode';
import { createRandom } from '../../src/random';
import { MemoryStorage } from '../../src/storage';
import { type Config, type ConfState, type Message, type ReadState, EntryType, emptyConfState } from '../../src/types';
import { dec } from './helpers';

export interface ClusterNode {
  id: bigint;
  node: RawNode;
  storage: MemoryStorage;
  applied: string[];
  readStates: ReadState[];
  confState: ConfState;
}

type Filter = (m: Message) => boolean;

export class Cluster {
  readonly nodes = new Map<bigint, ClusterNode>();
  readonly sent: Message[] = [];
  private readonly down = new Set<bigint>();
  private filter: Filter | undefined;

  /**
   * Without learners, voters are bootstrapped with RawNode.bootstrap (the initial configuration
   * is in the log, so nodes added later learn it by replication). With learners, every node
   * starts from a storage whose ConfState holds the initial configuration.
   */
  constructor(voters: number[], private readonly opts: Partial<Omit<Config, 'id' | 'storage'>> = {}, learners: number[] = []) {
    if (learners.length === 0) {
      for (const id of voters) this.addNode(BigInt(id)).node.bootstrap(voters.map((v) => ({ id: BigInt(v) })));
      return;
    }
    const cs: ConfState = { ...emptyConfState(), voters: voters.map(BigInt), learners: learners.map(BigInt) };
    for (const id of [...voters, ...learners]) this.addNode(BigInt(id), MemoryStorage.withConfState(cs));
  }

  addNode(id: bigint, storage: MemoryStorage = new MemoryStorage()): ClusterNode {
    const node = new RawNode({ id, electionTick: 10, heartbeatTick: 1, storage, random: createRandom(id * 7919n), ...this.opts });
    const cn: ClusterNode = { id, node, storage, applied: [], readStates: [], confState: storage.initialState().confState };
    this.nodes.set(id, cn);
    return cn;
  }

  get(id: number | bigint): ClusterNode {
    return this.nodes.get(BigInt(id))!;
  }

  leaderId(): bigint | undefined {
    for (const [id, cn] of this.nodes) if (!this.down.has(id) && cn.node.status().softState.raftState === 2) return id;
    return undefined;
  }

  setDown(id: number, isDown: boolean): void {
    if (isDown) this.down.add(BigInt(id));
    else this.down.delete(BigInt(id));
  }

  setFilter(filter: Filter | undefined): void {
    this.filter = filter;
  }

  /** Handles Ready on every node and delivers messages until nothing moves. */
  stabilize(maxRounds = 1000): void {
    for (let round = 0; round < maxRounds; round++) {
      if (!this.pump()) return;
    }
    throw new Error('cluster did not stabilize');
  }

  /** One round: every node handles its Ready, then the messages are delivered. Returns whether any moved. */
  pump(): boolean {
    const msgs: Message[] = [];
    for (const cn of this.nodes.values()) {
      if (this.down.has(cn.id)) continue;
      while (cn.node.hasReady()) msgs.push(...this.handleReady(cn));
    }
    for (const m of msgs) this.deliver(m);
    return msgs.length > 0;
  }

  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const cn of this.nodes.values()) if (!this.down.has(cn.id)) cn.node.tick();
      this.stabilize();
    }
  }

  /** Ticks until some node leads, or throws. */
  electLeader(maxTicks = 200): bigint {
    for (let i = 0; i < maxTicks; i++) {
      const lead = this.leaderId();
      if (lead !== undefined) return lead;
      this.tickAll();
    }
    throw new Error('no leader elected');
  }

  private deliver(m: Message): void {
    this.sent.push(m);
    const target = this.nodes.get(m.to);
    if (target === undefined || this.down.has(m.to) || this.down.has(m.from)) return;
    if (this.filter !== undefined && !this.filter(m)) return;
    try {
      target.node.step(m);
    } catch (err) {
      // Forwarded proposals the target cannot take, and responses from peers no longer in the
      // configuration, are dropped, as a transport would.
      if (!(err instanceof Error) || (err.name !== 'ProposalDroppedError' && err.name !== 'StepPeerNotFoundError')) throw err;
    }
  }

  private handleReady(cn: ClusterNode): Message[] {
    const rd = cn.node.ready();
    if (rd.snapshot !== undefined) {
      cn.storage.applySnapshot(rd.snapshot);
      cn.confState = rd.snapshot.metadata.confState;
      cn.applied.push(`snapshot@${rd.snapshot.metadata.index}:${dec(rd.snapshot.data)}`);
    }
    cn.storage.append(rd.entries);
    if (rd.hardState !== undefined) cn.storage.setHardState(rd.hardState);
    for (const e of rd.committedEntries) {
      if (e.type === EntryType.Normal) {
        if (e.data.length > 0) cn.applied.push(dec(e.data));
      } else {
        cn.confState = cn.node.applyConfChange(decodeEntryConfChange(e));
      }
    }
    cn.readStates.push(...rd.readStates);
    cn.node.advance(rd);
    return rd.messages;
  }
}
