// Joint consensus (Raft §6 of the thesis / §6 of the paper): decisions need a majority of both
// the incoming and the outgoing configuration. A non-joint config has an empty outgoing half.
import { type MajorityConfig, majorityCommittedIndex, majorityVoteResult } from './majority';
import { type AckedIndexer, VoteResult } from './types';

export interface JointConfig {
  incoming: Set<bigint>;
  outgoing: Set<bigint>;
}

export function isJoint(config: JointConfig): boolean {
  return config.outgoing.size > 0;
}

/** All voters of both halves (deduplicated). */
export function jointIds(config: JointConfig): Set<bigint> {
  const ids = new Set<bigint>(config.incoming);
  for (const id of config.outgoing) ids.add(id);
  return ids;
}

/** The largest index committed by both halves. */
export function jointCommittedIndex(config: JointConfig, acked: AckedIndexer): number {
  const incoming = majorityCommittedIndex(config.incoming, acked);
  const outgoing = majorityCommittedIndex(config.outgoing, acked);
  return Math.min(incoming, outgoing);
}

/** Won if both halves won; Lost if either lost; Pending otherwise. */
export function jointVoteResult(config: JointConfig, votes: ReadonlyMap<bigint, boolean>): VoteResult {
  const r1 = majorityVoteResult(config.incoming, votes);
  const r2 = majorityVoteResult(config.outgoing, votes);
  if (r1 === r2) return r1;
  if (r1 === VoteResult.Lost || r2 === VoteResult.Lost) return VoteResult.Lost;
  return VoteResult.Pending;
}

export type { MajorityConfig };
