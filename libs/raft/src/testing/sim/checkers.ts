// Safety checkers for Raft histories (Raft paper §5.2–§5.4, Figure 3). They see a run only
// through the observe* calls, so unit tests can feed them fabricated histories and the
// simulator feeds them what real nodes did. Each check is local and incremental (O(1) per
// observed entry, O(log length) per new leader) so it can run after every simulated step.

/** A broken safety property. `property` is one of the names in SAFETY_PROPERTIES. */
export interface Violation {
  property: SafetyProperty;
  detail: string;
}

export const SAFETY_PROPERTIES = [
  'election-safety',
  'log-matching',
  'leader-completeness',
  'state-machine-safety',
  'durability',
] as const;
export type SafetyProperty = (typeof SAFETY_PROPERTIES)[number];

/**
 * What a checker needs to know about one node's log: entries after its snapshot plus the
 * snapshot's position. `termAt` answers for indexes in (snapshotIndex, lastIndex], and
 * snapshotIndex itself (the snapshot term).
 */
export interface LogView {
  snapshotIndex: number;
  snapshotTerm: number;
  lastIndex: number;
  termAt(index: number): number | undefined;
}

interface EntryFact {
  /** Identity of the entry's payload (type + data); equal payloads give equal keys. */
  key: string;
  /** Term of the entry just before it. With equal (index, term) and equal prevTerm at every index, logs match by induction. */
  prevTerm: number;
}

interface CommitFact {
  term: number;
  /** An upper bound on the term in which the entry became committed (the observer's term when first seen committed). */
  committedByTerm: number;
}

/** Raised into the caller as a value, never thrown, so the simulator can print a trace. */
export class SafetyChecker {
  private readonly leaderOfTerm = new Map<number, bigint>();
  private readonly entries = new Map<string, EntryFact>();
  private readonly committed = new Map<number, CommitFact>();
  /** Highest index recorded in `committed`; all indexes in [1, maxCommitted] above compaction are present. */
  private maxCommitted = 0;
  private readonly appliedKey = new Map<number, string>();
  /** Digest of a state machine right after applying index i (identical on every node). */
  private readonly digestAt = new Map<number, number>();
  private readonly lastApplied = new Map<bigint, number>();
  /** Proposals reported applied by some node: proposal id → log index. */
  private readonly acknowledged = new Map<string, number>();
  readonly violations: Violation[] = [];

  get ok(): boolean {
    return this.violations.length === 0;
  }

  private fail(property: SafetyProperty, detail: string): void {
    this.violations.push({ property, detail });
  }

  /** §5.2: at most one leader per term, over the whole history. */
  observeLeader(node: bigint, term: number, log: LogView): void {
    const known = this.leaderOfTerm.get(term);
    if (known === undefined) {
      this.leaderOfTerm.set(term, node);
      this.checkLeaderCompleteness(node, term, log);
    } else if (known !== node) {
      this.fail('election-safety', `nodes ${known} and ${node} both leader in term ${term}`);
    }
  }

  /**
   * §5.3 Log Matching: an (index, term) pair names one payload and one predecessor term,
   * wherever it appears. By induction over indexes this makes logs identical up to any
   * shared (index, term).
   */
  observeEntry(node: bigint, index: number, term: number, key: string, prevTerm: number): void {
    const id = `${index}/${term}`;
    const known = this.entries.get(id);
    if (known === undefined) {
      this.entries.set(id, { key, prevTerm });
      return;
    }
    if (known.key !== key) {
      this.fail('log-matching', `node ${node} holds entry ${id} = ${key}, another node holds ${known.key}`);
    } else if (known.prevTerm !== prevTerm) {
      this.fail('log-matching', `node ${node} holds entry ${id} after term ${prevTerm}, another node after term ${known.prevTerm}`);
    }
  }

  /** A node (in term `observerTerm`) reports `index` committed with the given term. */
  observeCommitted(node: bigint, index: number, term: number, observerTerm: number): void {
    const known = this.committed.get(index);
    if (known === undefined) {
      this.committed.set(index, { term, committedByTerm: observerTerm });
      if (index > this.maxCommitted) this.maxCommitted = index;
    } else if (known.term !== term) {
      this.fail('state-machine-safety', `node ${node} has index ${index} committed at term ${term}, previously committed at term ${known.term}`);
    }
  }

  /** §5.4.1: a leader of term T holds every entry committed in a term before T. */
  private checkLeaderCompleteness(node: bigint, term: number, log: LogView): void {
    for (let index = this.maxCommitted; index > log.snapshotIndex; index--) {
      const fact = this.committed.get(index);
      if (fact === undefined || fact.committedByTerm >= term) continue;
      const have = log.termAt(index);
      if (have !== fact.term) {
        this.fail(
          'leader-completeness',
          `leader ${node} of term ${term} has ${have === undefined ? 'no entry' : `term ${have}`} at index ${index}, committed with term ${fact.term}`,
        );
        return;
      }
    }
    const covered = this.committed.get(log.snapshotIndex);
    if (covered !== undefined && log.snapshotIndex > 0 && covered.term !== log.snapshotTerm) {
      this.fail('leader-completeness', `leader ${node} of term ${term} has a snapshot at ${log.snapshotIndex}/${log.snapshotTerm}, committed term there is ${covered.term}`);
    }
  }

  /**
   * §5.4.3 State Machine Safety: nodes apply the same entry at each index, in index order
   * without gaps, so every node's applied sequence is a prefix of the longest one.
   * `digest` is the node's state-machine digest after applying.
   */
  observeApply(node: bigint, index: number, key: string, digest: number): void {
    const last = this.lastApplied.get(node) ?? 0;
    if (index !== last + 1) {
      this.fail('state-machine-safety', `node ${node} applied index ${index} right after ${last}`);
    }
    this.lastApplied.set(node, index);
    const known = this.appliedKey.get(index);
    if (known === undefined) this.appliedKey.set(index, key);
    else if (known !== key) this.fail('state-machine-safety', `node ${node} applied ${key} at index ${index}, another node applied ${known}`);
    this.checkDigest(node, index, digest);
  }

  /** A node's state machine was replaced by a snapshot (received, or its own after a restart) at `index`. */
  observeRestore(node: bigint, index: number, digest: number): void {
    const last = this.lastApplied.get(node) ?? 0;
    if (index < last) this.fail('state-machine-safety', `node ${node} restored snapshot ${index} behind its applied index ${last} without restarting`);
    this.lastApplied.set(node, index);
    this.checkDigest(node, index, digest);
  }

  /** A node restarted: its volatile applied state is gone and it resumes from `index`. */
  observeRestart(node: bigint, index: number, digest: number): void {
    this.lastApplied.set(node, index);
    if (index > 0) this.checkDigest(node, index, digest);
  }

  private checkDigest(node: bigint, index: number, digest: number): void {
    const known = this.digestAt.get(index);
    if (known === undefined) this.digestAt.set(index, digest);
    else if (known !== digest) this.fail('state-machine-safety', `node ${node} state after index ${index} differs from another node's`);
  }

  /**
   * A proposal was applied (first applied at `index`) somewhere: from now on it must never
   * disappear. Every node first applies it at the same index, or state-machine safety broke.
   */
  observeAcknowledged(proposal: string, index: number): void {
    const known = this.acknowledged.get(proposal);
    if (known === undefined) this.acknowledged.set(proposal, index);
    else if (known !== index) this.fail('durability', `proposal ${proposal} first applied at index ${index} on one node and at index ${known} on another`);
  }

  /** Every acknowledged proposal must be in the state machine of a caught-up node. */
  checkNothingLost(node: bigint, appliedIndex: number, contains: (proposal: string) => boolean): void {
    for (const [proposal, index] of this.acknowledged) {
      if (index <= appliedIndex && !contains(proposal)) {
        this.fail('durability', `proposal ${proposal} acknowledged at index ${index} is missing from node ${node} (applied ${appliedIndex})`);
        return;
      }
    }
  }

  get acknowledgedCount(): number {
    return this.acknowledged.size;
  }

  get highestAcknowledgedIndex(): number {
    let max = 0;
    for (const index of this.acknowledged.values()) max = Math.max(max, index);
    return max;
  }
}
