// One seeded simulation run: a chaos phase (faulty network, crashes, restarts, membership
// changes, compaction, a stream of proposals) checked after every step, then a liveness phase
// (network healed, members restarted) that must elect a leader and commit a new proposal on
// every member. Everything random comes from one Prng seeded by the run's seed.
import { ProposalDroppedError, StepPeerNotFoundError } from '../../errors';
import { type ConfState, type Message, ConfChangeTransition, MessageType, StateType, emptyConfState } from '../../types';
import { Prng, hash53 } from '../prng';
import { SafetyChecker } from './checkers';
import { chooseConfChange, partitionRandomly } from './faults';
import { HEALTHY_NETWORK, SimNetwork } from './network';
import { type RaftTuning, type SimMutation, SimNode, describeConf, membersOf } from './node';
import { SimStateMachine } from './state-machine';

export interface SimOptions {
  seed: number;
  /** Initial voters (3 or 5); two spare IDs more can join through conf changes. */
  nodes: number;
  /** Steps of the chaos phase; one step is one tick of every live node's clock. */
  steps: number;
  /** Upper bound on steps for the liveness phase to elect a leader and commit everywhere. */
  livenessSteps?: number;
  /** Receives every trace line as it happens (for --verbose). */
  log?: (line: string) => void;
  /** A deliberate bug (tests of the checkers only). */
  mutation?: SimMutation;
}

export interface SimViolation {
  property: string;
  detail: string;
  step: number;
  /** The last trace lines before the violation. */
  trace: string[];
}

export interface SimStats {
  proposals: number;
  acknowledged: number;
  crashes: number;
  confChanges: number;
  snapshotsInstalled: number;
  maxTerm: number;
  livenessSteps: number;
}

export interface SimResult {
  seed: number;
  violation?: SimViolation;
  /** Digest of the whole run (trace and deliveries); equal for equal seeds. */
  digest: string;
  stats: SimStats;
}

const SPARE_NODES = 2;
const TRACE_KEEP = 60;
const DEFAULT_LIVENESS_STEPS = 1000;
const LIVENESS_COMPACT_EVERY_STEPS = 100;
/**
 * Catching up is throughput-bound: with the smallest tuning (one entry per message, one
 * message in flight) a follower gains one entry per round trip (2 steps). The liveness bound
 * grows with the backlog accordingly, with margin.
 */
const LIVENESS_STEPS_PER_BACKLOG_ENTRY = 4;

interface PendingReport {
  reporter: bigint;
  target: bigint;
  snapshotFailed?: boolean;
}

class RaftError extends Error {}

export class Simulation {
  private readonly prng: Prng;
  private readonly network: SimNetwork<Message>;
  private readonly checker = new SafetyChecker();
  private readonly nodes = new Map<bigint, SimNode>();
  /** IDs the simulator proposed to remove; never proposed for addition again. */
  private readonly retired = new Set<bigint>();
  /** Removed nodes shut down for good (when refused by a peer, and at the liveness phase). */
  private readonly stopped = new Set<bigint>();
  private readonly traceTail: string[] = [];
  private readonly reports: PendingReport[] = [];
  private runDigest = 0;
  private now = 0;
  private proposalSeq = 0;
  private readonly stats: SimStats = { proposals: 0, acknowledged: 0, crashes: 0, confChanges: 0, snapshotsInstalled: 0, maxTerm: 0, livenessSteps: 0 };

  constructor(private readonly options: SimOptions) {
    this.prng = new Prng(options.seed);
    this.network = new SimNetwork<Message>(this.prng, {
      dropRate: this.prng.pick([0, 0.02, 0.05, 0.1]),
      duplicateRate: this.prng.pick([0, 0.02, 0.05]),
      delayMaxSteps: this.prng.pick([0, 1, 2, 3]),
      reorder: true,
    });
    const tuning: RaftTuning = {
      electionTick: 10,
      heartbeatTick: 1,
      preVote: this.prng.chance(0.5),
      checkQuorum: this.prng.chance(0.5),
      maxSizePerMsg: this.prng.pick([0, 64, 1024 * 1024]),
      maxInflightMsgs: this.prng.pick([1, 4, 256]),
    };
    const voters: bigint[] = [];
    for (let i = 1; i <= options.nodes; i++) voters.push(BigInt(i));
    const conf: ConfState = { ...emptyConfState(), voters };
    const host = {
      ...(options.mutation !== undefined ? { mutation: options.mutation } : {}),
      checker: this.checker,
      send: (from: bigint, messages: Message[]) => this.sendAll(from, messages),
      trace: (line: string) => this.trace(line),
      random: () => {
        const fork = this.prng.fork();
        return () => fork.next();
      },
    };
    for (let i = 1; i <= options.nodes + SPARE_NODES; i++) {
      const id = BigInt(i);
      const durable = {
        hardState: { term: 1, vote: 0n, commit: 1 },
        snapshot: { data: SimStateMachine.initial(1).encode(), metadata: { index: 1, term: 1, confState: conf } },
        entries: [],
      };
      this.nodes.set(id, new SimNode(id, durable, tuning, host));
    }
    this.trace(
      `seed ${options.seed}: ${options.nodes} voters + ${SPARE_NODES} spares, preVote=${tuning.preVote} checkQuorum=${tuning.checkQuorum} ` +
        `maxSizePerMsg=${tuning.maxSizePerMsg} maxInflight=${tuning.maxInflightMsgs} drop=${this.network.faults.dropRate} ` +
        `dup=${this.network.faults.duplicateRate} delay<=${this.network.faults.delayMaxSteps + 1}`,
    );
  }

  run(): SimResult {
    let violation: SimViolation | undefined;
    try {
      for (const node of this.nodes.values()) node.start();
      violation = this.chaos() ?? this.liveness();
    } catch (err) {
      violation = this.violation('raft-error', err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err));
    }
    this.stats.acknowledged = this.checker.acknowledgedCount;
    const result: SimResult = { seed: this.options.seed, digest: this.runDigest.toString(16), stats: this.stats };
    if (violation !== undefined) result.violation = violation;
    return result;
  }

  private chaos(): SimViolation | undefined {
    for (let step = 0; step < this.options.steps; step++) {
      this.step(true);
      if (!this.checker.ok) return this.checkerViolation();
    }
    return undefined;
  }

  /** One unit of time: reports, deliveries, ticks, (chaos) one round of random events, Ready handling. */
  private step(chaos: boolean): void {
    this.now++;
    this.flushReports();
    for (const d of this.network.takeDue(this.now)) {
      if (d.cut === true) this.lost(d.from, d.to, d.msg);
      else this.deliver(d.from, d.to, d.msg);
    }
    for (const node of this.nodes.values()) {
      if (node.alive && (!chaos || this.prng.chance(0.95))) node.raw!.tick();
    }
    if (chaos) this.randomEvents();
    this.processReadies();
  }

  /**
   * A message that never arrived. A failed snapshot must be reported (etcd's transport does):
   * otherwise the leader waits for that snapshot forever.
   */
  private lost(from: bigint, to: bigint, msg: Message): void {
    if (msg.type === MessageType.Snap) this.reports.push({ reporter: from, target: to, snapshotFailed: true });
  }

  private stopNetworkTo(id: bigint): void {
    for (const d of this.network.dropTo(id)) this.lost(d.from, d.to, d.msg);
  }

  private deliver(from: bigint, to: bigint, msg: Message): void {
    const node = this.nodes.get(to)!;
    if (!node.alive) {
      this.lost(from, to, msg);
      return;
    }
    if (this.refuses(node, from)) {
      this.gone(from, to);
      return;
    }
    this.mix(`${from}>${to}:${msg.type}:${msg.term}:${msg.index}:${msg.commit}:${msg.entries.length}`);
    // A real transport hands over a decoded copy; raft may stamp term/index into the entries
    // it receives, so a duplicated delivery must not share objects with the first one.
    this.guard(() => node.raw!.step(copyMessage(msg)));
    if (msg.type === MessageType.Snap) this.reports.push({ reporter: from, target: to, snapshotFailed: false });
  }

  /**
   * etcd's transport refuses messages from removed members (410 Gone). A member knows the
   * removals it applied; a node that is joining (not in its own configuration yet) knows the
   * cluster's membership, removed IDs included, as an etcd member fetches it when it joins.
   * Without this, a removed node that missed its removal keeps campaigning and can push a
   * non-voting node (learner, joining node) to a term the leader never hears of: without
   * pre-vote or check-quorum nothing answers the leader's lower-term messages, and that node
   * never catches up. Raft alone does not prevent it; etcd's membership layer does.
   */
  private refuses(receiver: SimNode, from: bigint): boolean {
    if (receiver.removedIds.has(from)) return true;
    if (membersOf(receiver.confState).includes(receiver.id)) return false;
    for (const n of this.nodes.values()) if (n.removedIds.has(from)) return true;
    return false;
  }

  /** The removed sender learns it is gone and shuts down for good, as an etcd member does. */
  private gone(id: bigint, refusedBy: bigint): void {
    const node = this.nodes.get(id)!;
    if (this.stopped.has(id)) return;
    this.trace(`${id} refused by ${refusedBy} as removed: stopped for good`);
    node.crash();
    this.stopNetworkTo(id);
    this.stopped.add(id);
  }

  private sendAll(from: bigint, messages: Message[]): void {
    for (const m of messages) {
      const dropped = this.network.send(from, m.to, m, this.now);
      if (dropped === undefined) continue;
      if (m.type === MessageType.Snap) this.reports.push({ reporter: from, target: m.to, snapshotFailed: true });
      else if (dropped === 'partitioned' && this.prng.chance(0.5)) this.reports.push({ reporter: from, target: m.to });
    }
  }

  /** Transport feedback is given on the next step, never in the middle of a Ready. */
  private flushReports(): void {
    const reports = this.reports.splice(0);
    for (const r of reports) {
      const raw = this.nodes.get(r.reporter)!.raw;
      if (raw === undefined) continue;
      if (r.snapshotFailed === undefined) raw.reportUnreachable(r.target);
      else raw.reportSnapshot(r.target, r.snapshotFailed);
    }
  }

  private processReadies(): void {
    for (const node of this.nodes.values()) {
      for (let round = 0; round < 4 && node.alive; round++) {
        const before = node.role;
        if (!this.guard(() => node.processReady())) break;
        if (node.role !== before) this.trace(`${node.id} became ${StateType[node.role]} at term ${node.term}`);
        this.stats.maxTerm = Math.max(this.stats.maxTerm, node.term);
      }
    }
  }

  /** Runs a call into raft, tolerating the errors a real caller expects. */
  private guard<T>(call: () => T): T | false {
    try {
      return call();
    } catch (err) {
      if (err instanceof ProposalDroppedError || err instanceof StepPeerNotFoundError) return false;
      throw new RaftError(err instanceof Error ? `${err.name}: ${err.message}\n${(err.stack ?? '').split('\n').slice(1, 8).join('\n')}` : String(err));
    }
  }

  private randomEvents(): void {
    const p = this.prng;
    if (p.chance(0.5)) this.proposeRandomly(p.range(1, 4));
    if (p.chance(0.01)) this.crashRandomly();
    if (p.chance(0.05)) this.restartRandomly();
    if (p.chance(0.01) && !this.network.partitioned) this.trace(`partition: ${partitionRandomly(p, this.network, this.allIds())}`);
    if (p.chance(0.02) && this.network.partitioned) {
      this.network.heal();
      this.trace('network healed');
    }
    if (p.chance(0.02)) this.changeMembership();
    if (p.chance(0.03)) this.compactRandomly();
    if (p.chance(0.004)) this.transferLeadership();
    if (p.chance(0.003)) this.forceCampaign();
  }

  private proposeRandomly(count: number): void {
    const leader = this.leader();
    const live = this.liveNodes();
    if (live.length === 0) return;
    const target = leader !== undefined && this.prng.chance(0.8) ? leader : this.prng.pick(live);
    for (let i = 0; i < count; i++) this.propose(target);
  }

  private propose(node: SimNode): string {
    const id = `p${this.options.seed}.${++this.proposalSeq}`;
    this.stats.proposals++;
    this.guard(() => node.raw!.propose(new TextEncoder().encode(id)));
    return id;
  }

  private crashRandomly(): void {
    const live = this.liveNodes();
    if (live.length === 0) return;
    const node = this.prng.pick(live);
    node.crash();
    this.stopNetworkTo(node.id);
    this.stats.crashes++;
    this.trace(`crash ${node.id}`);
  }

  private restartRandomly(): void {
    const down = [...this.nodes.values()].filter((n) => !n.alive && !this.stopped.has(n.id));
    if (down.length === 0) return;
    const node = this.prng.pick(down);
    node.start();
    this.trace(`restart ${node.id} from durable state: ${node.describe()}`);
  }

  private changeMembership(): void {
    const leader = this.leader();
    if (leader === undefined || leader.hasUnappliedConfChange()) return;
    const conf = leader.confState;
    const members = new Set(membersOf(conf));
    const spares = [...this.nodes.keys()].filter((id) => !members.has(id) && !this.retired.has(id) && !this.everMember(id));
    const choice = chooseConfChange(this.prng, { conf, spares });
    if (choice === undefined) return;
    const accepted = this.guard(() => {
      leader.raw!.proposeConfChange(choice.cc);
      return true;
    });
    if (accepted === false) return;
    for (const id of choice.removes) this.retired.add(id);
    this.stats.confChanges++;
    const changes = choice.cc.changes.map((c) => `${c.type}/${c.nodeId}`).join(',') || 'leave-joint';
    this.trace(`leader ${leader.id} proposes conf change [${changes}] transition=${choice.cc.transition} from ${describeConf(conf)}`);
  }

  /** Whether `id` was ever in any node's configuration or received entries (so it is no spare anymore). */
  private everMember(id: bigint): boolean {
    for (const n of this.nodes.values()) if (membersOf(n.confState).includes(id)) return true;
    return (this.nodes.get(id)?.durable.entries.length ?? 0) > 0;
  }

  private compactRandomly(): void {
    const live = this.liveNodes();
    if (live.length === 0) return;
    const node = this.prng.pick(live);
    if (node.compact(this.prng.pick([0, 2, 10]))) this.mix(`compact ${node.id}`);
  }

  private transferLeadership(): void {
    const leader = this.leader();
    if (leader === undefined) return;
    const target = this.prng.pick(leader.confState.voters);
    this.trace(`transfer leadership ${leader.id} -> ${target}`);
    this.guard(() => leader.raw!.transferLeader(target));
  }

  private forceCampaign(): void {
    const live = this.liveNodes();
    if (live.length === 0) return;
    const node = this.prng.pick(live);
    this.trace(`campaign ${node.id}`);
    this.guard(() => node.raw!.campaign());
  }

  private liveness(): SimViolation | undefined {
    this.network.heal();
    this.network.faults = { ...HEALTHY_NETWORK };
    this.retireRemovedNodes();
    for (const node of this.nodes.values()) if (!node.alive && !this.stopped.has(node.id)) node.start();
    this.trace('liveness: network healed, members restarted');
    const limit = (this.options.livenessSteps ?? DEFAULT_LIVENESS_STEPS) + LIVENESS_STEPS_PER_BACKLOG_ENTRY * this.backlog();
    let probe: string | undefined;
    let probeAt = 0;
    for (let step = 0; step < limit; step++) {
      this.step(false);
      this.stats.livenessSteps = step + 1;
      if (!this.checker.ok) return this.checkerViolation();
      this.retireRemovedNodes();
      // Members keep taking snapshots as they would in production (etcd: --snapshot-count). A
      // lagging node may need one newer than its own addition: a snapshot whose configuration
      // does not include the recipient is refused by it.
      if (step % LIVENESS_COMPACT_EVERY_STEPS === LIVENESS_COMPACT_EVERY_STEPS - 1) {
        for (const node of this.liveNodes()) node.compact(2);
      }
      const leader = this.leader();
      if (leader === undefined) continue;
      if (leader.confState.votersOutgoing.length > 0 && !leader.confState.autoLeave && !leader.hasUnappliedConfChange()) {
        this.guard(() => leader.raw!.proposeConfChange({ transition: ConfChangeTransition.Auto, changes: [] }));
      }
      if (probe !== undefined && this.appliedEverywhere(leader, probe)) return this.finalChecks();
      if (probe === undefined || this.now - probeAt > 50) {
        probe = this.propose(leader);
        probeAt = this.now;
        this.trace(`liveness: probe ${probe} proposed to ${leader.id}`);
      }
    }
    const leader = this.leader();
    const progress = leader === undefined ? 'no leader' : `leader ${leader.id} progress: ${describeProgress(leader)}`;
    const states = `${[...this.nodes.values()].map((n) => n.describe()).join('; ')}; ${progress}`;
    return this.violation('liveness', `no leader committed a new proposal on every member within ${limit} steps after healing: ${states}`);
  }

  /** Entries the slowest member still has to apply to reach the longest log. */
  private backlog(): number {
    let longest = 0;
    let slowest = Number.MAX_SAFE_INTEGER;
    for (const n of this.nodes.values()) {
      if (this.stopped.has(n.id)) continue;
      longest = Math.max(longest, n.lastIndex);
      slowest = Math.min(slowest, n.applied);
    }
    return Math.max(0, longest - slowest);
  }

  /**
   * Nodes whose removal the most advanced node has applied shut down for good, as etcd
   * members do; a removed node that never learnt of its removal would otherwise keep
   * campaigning with a stale configuration.
   */
  private retireRemovedNodes(): void {
    let latest: SimNode | undefined;
    for (const n of this.nodes.values()) if (latest === undefined || n.applied > latest.applied) latest = n;
    if (latest === undefined) return;
    const c = latest.confState;
    const members = new Set(membersOf(c));
    for (const id of this.retired) {
      const n = this.nodes.get(id)!;
      if (members.has(id) || this.stopped.has(id)) continue;
      if (n.alive) this.trace(`${id} was removed (per ${latest.id}): stopped for good`);
      n.crash();
      this.stopNetworkTo(id);
      this.stopped.add(id);
    }
  }

  private appliedEverywhere(leader: SimNode, proposal: string): boolean {
    const c = leader.confState;
    for (const id of new Set(membersOf(c))) {
      const node = this.nodes.get(id)!;
      if (this.stopped.has(id)) continue;
      if (!node.alive || !node.stateMachine.contains(proposal)) return false;
    }
    return true;
  }

  private finalChecks(): SimViolation | undefined {
    for (const node of this.nodes.values()) {
      if (!node.alive) continue;
      this.checker.checkNothingLost(node.id, node.applied, (p) => node.stateMachine.contains(p));
    }
    this.trace(`liveness: ok after ${this.stats.livenessSteps} steps; ${[...this.nodes.values()].map((n) => n.describe()).join('; ')}`);
    return this.checker.ok ? undefined : this.checkerViolation();
  }

  private leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes.values()) {
      if (n.alive && n.role === StateType.Leader && (best === undefined || n.term > best.term)) best = n;
    }
    return best;
  }

  private liveNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.alive);
  }

  private allIds(): bigint[] {
    return [...this.nodes.keys()];
  }

  private trace(line: string): void {
    const stamped = `[${this.now}] ${line}`;
    this.traceTail.push(stamped);
    if (this.traceTail.length > TRACE_KEEP) this.traceTail.shift();
    this.mix(line);
    this.options.log?.(stamped);
  }

  private mix(text: string): void {
    this.runDigest = hash53(`${this.runDigest}|${text}`);
  }

  private checkerViolation(): SimViolation {
    const v = this.checker.violations[0]!;
    return this.violation(v.property, v.detail);
  }

  private violation(property: string, detail: string): SimViolation {
    return { property, detail, step: this.now, trace: [...this.traceTail, ...[...this.nodes.values()].map((n) => `  ${n.describe()}`)] };
  }
}

function describeProgress(leader: SimNode): string {
  const status = leader.raw!.status();
  const parts: string[] = [];
  for (const [id, p] of status.progress ?? []) {
    parts.push(`${id}:${['probe', 'replicate', 'snapshot'][p.state]} match=${p.match} next=${p.next} pendingSnap=${p.pendingSnapshot} probeSent=${p.probeSent} inflight=${p.inflightCount} active=${p.recentActive}`);
  }
  return parts.join(', ');
}

function copyMessage(m: Message): Message {
  return { ...m, entries: m.entries.map((e) => ({ ...e })) };
}

export function runSimulation(options: SimOptions): SimResult {
  return new Simulation(options).run();
}
