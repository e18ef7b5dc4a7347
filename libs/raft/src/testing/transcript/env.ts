// The world a transcript runs in: nodes with in-memory storage, one message queue per
// recipient, cut links, and an output buffer every action writes to. Deterministic by
// construction: election timeouts are pinned to electionTick (random() returns 0) and nodes
// are always visited in ID order.
import { decodeEntryConfChange } from '../../confchange-codec';
import type { Logger } from '../../logger';
import { RawNode } from '../../rawnode';
import { type InitialState, MemoryStorage, type Storage } from '../../storage';
import { type ConfState, type Entry, type Message, type Snapshot, EntryType, isEmptySnapshot } from '../../types';
import { formatConf, formatMessage, formatReady } from './format';

export interface NodeOptions {
  electionTick: number;
  heartbeatTick: number;
  preVote: boolean;
  checkQuorum: boolean;
  maxInflightMsgs: number;
  maxSizePerMsg: number;
}

export interface EnvNode {
  id: bigint;
  raw: RawNode;
  storage: MemoryStorage;
  options: NodeOptions;
  /** Applied payloads of normal entries (the state machine), in order. */
  applied: string[];
  appliedIndex: number;
  conf: ConfState;
}

/**
 * What raft reads: the node's MemoryStorage, except that snapshot() is taken on demand at
 * the applied index with the current configuration (as an application that snapshots its
 * state machine when raft asks would). Without this, a leader could only ever send the
 * bootstrap snapshot, whose configuration predates any node added later; such a node rightly
 * refuses a snapshot that does not list it.
 */
class OnDemandSnapshotStorage implements Storage {
  constructor(private readonly node: () => EnvNode) {}

  private get inner(): MemoryStorage {
    return this.node().storage;
  }

  initialState(): InitialState {
    return this.inner.initialState();
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    return this.inner.entries(lo, hi, maxBytes);
  }

  term(i: number): number {
    return this.inner.term(i);
  }

  lastIndex(): number {
    return this.inner.lastIndex();
  }

  firstIndex(): number {
    return this.inner.firstIndex();
  }

  snapshot(): Snapshot {
    const node = this.node();
    const stored = this.inner.snapshot();
    if (node.appliedIndex <= stored.metadata.index) return stored;
    return {
      data: encoder.encode(node.applied.join(',')),
      metadata: { index: node.appliedIndex, term: this.inner.term(node.appliedIndex), confState: node.conf },
    };
  }
}

const LEVELS = ['debug', 'info', 'warn', 'error', 'none'] as const;
export type LogLevel = (typeof LEVELS)[number];

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const STABILIZE_ROUNDS_MAX = 1000;

export class TranscriptEnv {
  readonly nodes = new Map<bigint, EnvNode>();
  /** Messages waiting for delivery, in send order. */
  queue: Message[] = [];
  private readonly cut = new Set<string>();
  private out: string[] = [];
  private indent = '';
  logLevel: LogLevel = 'none';

  /** Appends a line to the current command's output. */
  print(line: string): void {
    this.out.push(this.indent + line);
  }

  takeOutput(): string {
    const text = this.out.length === 0 ? 'ok' : this.out.join('\n');
    this.out = [];
    this.indent = '';
    return text;
  }

  private withIndent(fn: () => void): void {
    const saved = this.indent;
    this.indent += '  ';
    try {
      fn();
    } finally {
      this.indent = saved;
    }
  }

  static parseLevel(text: string): LogLevel {
    if (!(LEVELS as readonly string[]).includes(text)) throw new Error(`unknown log level ${text}`);
    return text as LogLevel;
  }

  logger(id: bigint): Logger {
    const at = (level: LogLevel) => (msg: string) => {
      if (LEVELS.indexOf(level) >= LEVELS.indexOf(this.logLevel)) this.print(`${level.toUpperCase()} ${id}: ${msg}`);
    };
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  }

  node(id: bigint): EnvNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  sortedIds(): bigint[] {
    return [...this.nodes.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Creates a node whose storage holds a snapshot at `index` (term 1) with configuration `conf`, or is empty if index is 0. */
  addNode(id: bigint, conf: ConfState, index: number, options: NodeOptions): EnvNode {
    const storage = new MemoryStorage();
    if (index > 0) {
      storage.applySnapshot({ data: new Uint8Array(0), metadata: { index, term: 1, confState: conf } });
      storage.setHardState({ term: 1, vote: 0n, commit: index });
    }
    this.nodes.set(id, { id, raw: undefined as unknown as RawNode, storage, options, applied: [], appliedIndex: index, conf });
    const node = this.node(id);
    node.raw = this.newRawNode(id, index, options);
    return node;
  }

  /** Rebuilds a node from its storage (everything volatile is lost), like a process restart. */
  restart(id: bigint): void {
    const node = this.node(id);
    const snap = node.storage.snapshot();
    node.appliedIndex = snap.metadata.index;
    node.applied = decodeApplied(snap.data);
    node.conf = snap.metadata.confState;
    node.raw = this.newRawNode(id, snap.metadata.index, node.options);
  }

  private newRawNode(id: bigint, applied: number, o: NodeOptions): RawNode {
    return new RawNode({
      id,
      storage: new OnDemandSnapshotStorage(() => this.node(id)),
      applied,
      electionTick: o.electionTick,
      heartbeatTick: o.heartbeatTick,
      preVote: o.preVote,
      checkQuorum: o.checkQuorum,
      maxInflightMsgs: o.maxInflightMsgs,
      maxSizePerMsg: o.maxSizePerMsg,
      random: () => 0,
      logger: this.logger(id),
    });
  }

  /** Handles one Ready of each node in `ids` that has one; returns whether any did. */
  processReady(ids: readonly bigint[]): boolean {
    let any = false;
    for (const id of ids) {
      const node = this.node(id);
      if (!node.raw.hasReady()) continue;
      any = true;
      this.print(`> ${id} handling Ready`);
      this.withIndent(() => this.handleReady(node));
    }
    return any;
  }

  private handleReady(node: EnvNode): void {
    const rd = node.raw.ready();
    for (const line of formatReady(rd)) this.print(line);
    if (rd.snapshot !== undefined && !isEmptySnapshot(rd.snapshot)) {
      node.storage.applySnapshot(rd.snapshot);
      node.applied = decodeApplied(rd.snapshot.data);
      node.appliedIndex = rd.snapshot.metadata.index;
      node.conf = rd.snapshot.metadata.confState;
    }
    node.storage.append(rd.entries);
    if (rd.hardState !== undefined) node.storage.setHardState(rd.hardState);
    this.queue.push(...rd.messages);
    for (const e of rd.committedEntries) this.apply(node, e);
    node.raw.advance(rd);
  }

  private apply(node: EnvNode, e: Entry): void {
    node.appliedIndex = e.index;
    if (e.type === EntryType.Normal) {
      if (e.data.length > 0) node.applied.push(decoder.decode(e.data));
      return;
    }
    node.conf = node.raw.applyConfChange(decodeEntryConfChange(e));
    this.print(`applied conf change at ${e.index}: ${formatConf(node.conf)}`);
  }

  /** Delivers every queued message addressed to one of `ids` (in send order); returns whether any was. */
  deliver(ids: readonly bigint[], dropInstead = false): boolean {
    let any = false;
    for (const id of ids) {
      const mine = this.queue.filter((m) => m.to === id);
      if (mine.length === 0) continue;
      this.queue = this.queue.filter((m) => m.to !== id);
      any = true;
      this.print(`> ${id} ${dropInstead ? 'dropping' : 'receiving'} messages`);
      this.withIndent(() => {
        for (const m of mine) this.deliverOne(m, dropInstead);
      });
    }
    return any;
  }

  private deliverOne(m: Message, dropInstead: boolean): void {
    if (dropInstead || this.cut.has(linkKey(m.from, m.to))) {
      this.print(`dropped: ${formatMessage(m)}`);
      return;
    }
    this.print(formatMessage(m));
    try {
      this.node(m.to).raw.step(m);
    } catch (err) {
      this.print(`error: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Alternates Ready handling and delivery until nothing moves. */
  stabilize(ids: readonly bigint[]): void {
    for (let round = 0; round < STABILIZE_ROUNDS_MAX; round++) {
      const readied = this.processReady(ids);
      const delivered = this.deliver(ids);
      if (!readied && !delivered) return;
    }
    throw new Error(`stabilize did not converge within ${STABILIZE_ROUNDS_MAX} rounds`);
  }

  /** Cuts all links between the groups (both directions). */
  partition(groups: bigint[][]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.cut.add(linkKey(x, y));
      }
    }
  }

  /** Cuts one direction only. */
  cutLink(from: bigint, to: bigint): void {
    this.cut.add(linkKey(from, to));
  }

  heal(): void {
    this.cut.clear();
  }

  /** Snapshots node `id` at its applied index and discards log entries up to `compactIndex`. */
  compact(id: bigint, compactIndex: number): void {
    const node = this.node(id);
    const snapIndex = node.appliedIndex;
    if (snapIndex > node.storage.snapshot().metadata.index) {
      node.storage.createSnapshot(snapIndex, node.conf, encoder.encode(node.applied.join(',')));
    }
    node.storage.compact(compactIndex);
  }
}

function linkKey(from: bigint, to: bigint): string {
  return `${from}->${to}`;
}

function decodeApplied(data: Uint8Array): string[] {
  const text = decoder.decode(data);
  return text === '' ? [] : text.split(',');
}
