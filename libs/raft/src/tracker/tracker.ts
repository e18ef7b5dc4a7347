import { type JointConfig, isJoint, jointCommittedIndex, jointIds, jointVoteResult } from '../quorum/joint';
import { VoteResult } from '../quorum/types';
import type { ConfState } from '../types';
import { Progress } from './progress';

/**
 * A cluster configuration.
 * Invariants: learners ∩ voters(incoming ∪ outgoing) = ∅; learnersNext ⊆ outgoing \ incoming;
 * learnersNext and autoLeave are only non-empty/true in a joint configuration.
 */
export interface TrackerConfig {
  voters: JointConfig;
  /** Leave the joint configuration automatically once it is committed. */
  autoLeave: boolean;
  learners: Set<bigint>;
  /** Outgoing voters that become learners when the joint configuration is left. */
  learnersNext: Set<bigint>;
}

export type ProgressMap = Map<bigint, Progress>;

export function emptyTrackerConfig(): TrackerConfig {
  return { voters: { incoming: new Set(), outgoing: new Set() }, autoLeave: false, learners: new Set(), learnersNext: new Set() };
}

export function cloneTrackerConfig(c: TrackerConfig): TrackerConfig {
  return {
    voters: { incoming: new Set(c.voters.incoming), outgoing: new Set(c.voters.outgoing) },
    autoLeave: c.autoLeave,
    learners: new Set(c.learners),
    learnersNext: new Set(c.learnersNext),
  };
}

function sortedIds(ids: Iterable<bigint>): bigint[] {
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function configToConfState(c: TrackerConfig): ConfState {
  return {
    voters: sortedIds(c.voters.incoming),
    votersOutgoing: sortedIds(c.voters.outgoing),
    learners: sortedIds(c.learners),
    learnersNext: sortedIds(c.learnersNext),
    autoLeave: c.autoLeave,
  };
}

export function describeConfig(c: TrackerConfig): string {
  const fmt = (s: Iterable<bigint>): string => sortedIds(s).join(' ');
  let out = `voters=(${fmt(c.voters.incoming)})`;
  if (isJoint(c.voters)) out += `&&(${fmt(c.voters.outgoing)})`;
  if (c.learners.size > 0) out += ` learners=(${fmt(c.learners)})`;
  if (c.learnersNext.size > 0) out += ` learners_next=(${fmt(c.learnersNext)})`;
  if (c.autoLeave) out += ' autoleave';
  return out;
}

/** The leader's bookkeeping: configuration, per-peer progress and the votes of an election. */
export class ProgressTracker {
  config: TrackerConfig = emptyTrackerConfig();
  progress: ProgressMap = new Map();
  votes = new Map<bigint, boolean>();
  private sortedCache: { progress: ProgressMap; size: number; ids: bigint[] } | undefined;

  constructor(readonly maxInflight: number, readonly maxInflightBytes: number) {}

  confState(): ConfState {
    return configToConfState(this.config);
  }

  /** A single voter and nothing joint: that voter alone is the quorum. */
  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && !isJoint(this.config.voters);
  }

  /** Reads a voter's match index; one closure for the tracker's lifetime (hot path). */
  private readonly ackedIndex = (id: bigint): number | undefined => this.progress.get(id)?.match;

  /** The largest index stored on a quorum (of both halves when joint). */
  committed(): number {
    return jointCommittedIndex(this.config.voters, this.ackedIndex);
  }

  /** Calls f for every peer (voters and learners) in ascending ID order, so output is deterministic. */
  visit(f: (id: bigint, pr: Progress) => void): void {
    for (const id of this.ids()) f(id, this.progress.get(id)!);
  }

  ids(): bigint[] {
    const cache = this.sortedCache;
    if (cache !== undefined && cache.progress === this.progress && cache.size === this.progress.size) return cache.ids;
    const ids = sortedIds(this.progress.keys());
    this.sortedCache = { progress: this.progress, size: this.progress.size, ids };
    return ids;
  }

  /** Whether a quorum of voters was recently active (check-quorum). */
  quorumActive(): boolean {
    const votes = new Map<bigint, boolean>();
    for (const [id, pr] of this.progress) {
      if (!pr.isLearner) votes.set(id, pr.recentActive);
    }
    return jointVoteResult(this.config.voters, votes) === VoteResult.Won;
  }

  voterNodes(): bigint[] {
    return sortedIds(jointIds(this.config.voters));
  }

  learnerNodes(): bigint[] {
    return sortedIds(this.config.learners);
  }

  resetVotes(): void {
    this.votes = new Map();
  }

  /** Records a vote from id; the first vote from a node is the one that counts. */
  recordVote(id: bigint, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  /** Counts votes from current voters and returns the election outcome. */
  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      const v = this.votes.get(id);
      if (v === undefined) continue;
      if (v) granted++;
      else rejected++;
    }
    return { granted, rejected, result: jointVoteResult(this.config.voters, this.votes) };
  }
}
