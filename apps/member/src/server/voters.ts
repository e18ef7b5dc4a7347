/**
 * True when `self` is the cluster's only voter: it alone is the quorum, so it may campaign at
 * once on start-up and has no leadership to lose by pausing. A learner beside one voter is not.
 */
export function isSoleVoter(voters: readonly bigint[], self: bigint): boolean {
  return voters.length === 1 && voters[0] === self;
}
