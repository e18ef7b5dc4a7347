// Majority quorum arithmetic over one set of voters (Raft §5.2, §5.3).
import { type AckedIndexer, UNCONSTRAINED_INDEX, VoteResult } from './types';

export type MajorityConfig = ReadonlySet<bigint>;

/**
 * The largest index acknowledged by a majority of `voters`: sort the acked indexes in
 * descending order and take the (n/2+1)-th. Voters without an acked index count as 0.
 * An empty config returns UNCONSTRAINED_INDEX so that it is neutral in a joint min().
 */
export function majorityCommittedIndex(voters: MajorityConfig, acked: AckedIndexer): number {
  const n = voters.size;
  if (n === 0) return UNCONSTRAINED_INDEX;
  if (n === 1) {
    for (const id of voters) return acked(id) ?? 0;
  }
  // Insertion sort (descending) into a small array: clusters have a handful of voters.
  const sorted: number[] = [];
  for (const id of voters) {
    const idx = acked(id) ?? 0;
    let pos = sorted.length;
    sorted.push(idx);
    while (pos > 0 && sorted[pos - 1]! < idx) {
      sorted[pos] = sorted[pos - 1]!;
      pos--;
    }
    sorted[pos] = idx;
  }
  return sorted[Math.floor(n / 2)]!;
}

/**
 * Outcome of an election given the votes so far (true = granted). Votes from non-members are
 * ignored. An empty config wins (so a joint config is decided by its other half).
 */
export function majorityVoteResult(voters: MajorityConfig, votes: ReadonlyMap<bigint, boolean>): VoteResult {
  if (voters.size === 0) return VoteResult.Won;
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const quorum = Math.floor(voters.size / 2) + 1;
  if (granted >= quorum) return VoteResult.Won;
  if (granted + missing >= quorum) return VoteResult.Pending;
  return VoteResult.Lost;
}
