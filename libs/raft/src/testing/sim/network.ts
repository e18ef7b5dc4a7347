// A simulated network between in-process nodes. Time is the simulator's step counter. Every
// fault (drop, delay, reordering, duplication, one-way or two-way partitions) is decided by
// the injected Prng, so a seed replays the same deliveries.
import type { Prng } from '../prng';

export interface NetworkFaults {
  /** Probability that a message is lost. */
  dropRate: number;
  /** Probability that a delivered message is delivered a second time later. */
  duplicateRate: number;
  /** Messages arrive between 1 and 1 + delayMaxSteps steps after sending. */
  delayMaxSteps: number;
  /** Messages due in the same step arrive in random order (else in send order, like a TCP stream). */
  reorder: boolean;
}

/**
 * A reliable, ordered network (what a healed cluster has: one TCP stream per peer). Raft is
 * safe under reordering, but a reordered stream makes a leader fall back to probing often, so
 * a lagging follower may take very long to catch up: not a fair liveness test.
 */
export const HEALTHY_NETWORK: NetworkFaults = { dropRate: 0, duplicateRate: 0, delayMaxSteps: 0, reorder: false };

interface InFlight<M> {
  deliverAt: number;
  /** Tie-breaker so equal deliverAt keeps a deterministic order before shuffling. */
  seq: number;
  from: bigint;
  to: bigint;
  msg: M;
}

/** Why a message did not arrive (the sender's transport may be told). */
export type DropReason = 'lost' | 'partitioned' | 'overflow';

export interface Delivery<M> {
  from: bigint;
  to: bigint;
  msg: M;
  /** The link was cut while the message was in flight: it is lost (the sender's transport may notice). */
  cut?: true;
}

/**
 * Messages in flight, bounded by `capacity` (excess messages are dropped as a real
 * transport's full send buffer would). A blocked link drops messages at send time.
 */
export class SimNetwork<M> {
  private inFlight: InFlight<M>[] = [];
  private readonly blocked = new Set<string>();
  private seq = 0;
  faults: NetworkFaults;

  constructor(
    private readonly prng: Prng,
    faults: NetworkFaults,
    private readonly capacity = 10_000,
  ) {
    this.faults = { ...faults };
  }

  /** Queues msg; returns why it was dropped, or undefined if it is on its way. */
  send(from: bigint, to: bigint, msg: M, now: number): DropReason | undefined {
    if (this.isBlocked(from, to)) return 'partitioned';
    if (this.prng.chance(this.faults.dropRate)) return 'lost';
    if (this.inFlight.length >= this.capacity) return 'overflow';
    this.enqueue(from, to, msg, now);
    if (this.prng.chance(this.faults.duplicateRate) && this.inFlight.length < this.capacity) {
      this.enqueue(from, to, msg, now);
    }
    return undefined;
  }

  private enqueue(from: bigint, to: bigint, msg: M, now: number): void {
    const deliverAt = now + 1 + this.prng.int(this.faults.delayMaxSteps + 1);
    this.inFlight.push({ deliverAt, seq: this.seq++, from, to, msg });
  }

  /** Removes and returns the messages due at `now`, shuffled if faults.reorder. Those whose link was cut meanwhile come back marked `cut`. */
  takeDue(now: number): Delivery<M>[] {
    const due: InFlight<M>[] = [];
    const later: InFlight<M>[] = [];
    for (const f of this.inFlight) (f.deliverAt <= now ? due : later).push(f);
    this.inFlight = later;
    const out = due.map((f): Delivery<M> => (this.isBlocked(f.from, f.to) ? { from: f.from, to: f.to, msg: f.msg, cut: true } : { from: f.from, to: f.to, msg: f.msg }));
    // inFlight is kept in send order, so without reordering `out` already is.
    return this.faults.reorder ? this.prng.shuffle(out) : out;
  }

  /** Cuts the link from → to only (asymmetric partition). */
  block(from: bigint, to: bigint): void {
    this.blocked.add(linkKey(from, to));
  }

  /** Cuts both directions between every node of `side` and every node of `other`. */
  split(side: readonly bigint[], other: readonly bigint[]): void {
    for (const a of side) {
      for (const b of other) {
        this.block(a, b);
        this.block(b, a);
      }
    }
  }

  isBlocked(from: bigint, to: bigint): boolean {
    return this.blocked.has(linkKey(from, to));
  }

  get partitioned(): boolean {
    return this.blocked.size > 0;
  }

  heal(): void {
    this.blocked.clear();
  }

  /** Forgets messages to a node (its connections died with it); returns them. */
  dropTo(node: bigint): Delivery<M>[] {
    const lost = this.inFlight.filter((f) => f.to === node);
    this.inFlight = this.inFlight.filter((f) => f.to !== node);
    return lost.map((f) => ({ from: f.from, to: f.to, msg: f.msg, cut: true }));
  }

  get size(): number {
    return this.inFlight.length;
  }

  describePartitions(): string {
    return [...this.blocked].sort().join(' ');
  }
}

function linkKey(from: bigint, to: bigint): string {
  return `${from}->${to}`;
}
