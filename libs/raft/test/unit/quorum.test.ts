// Quorum arithmetic (paper §5.3 commitment, §5.2 elections, §6 joint consensus), property-tested
// against naive definitions.
import fc from 'fast-check';
import { jointCommittedIndex, jointVoteResult } from '../../src/quorum/joint';
import { majorityCommittedIndex, majorityVoteResult } from '../../src/quorum/majority';
import { UNCONSTRAINED_INDEX, VoteResult } from '../../src/quorum/types';

const idArb = fc.integer({ min: 1, max: 12 }).map(BigInt);
const votersArb = fc.uniqueArray(idArb, { minLength: 0, maxLength: 7 });

/** Naive: the largest index i such that a majority acked >= i. */
function naiveCommitted(voters: bigint[], acked: Map<bigint, number>): number {
  if (voters.length === 0) return UNCONSTRAINED_INDEX;
  const candidates = [0, ...voters.map((id) => acked.get(id) ?? 0)];
  let best = 0;
  for (const c of candidates) {
    const count = voters.filter((id) => (acked.get(id) ?? 0) >= c).length;
    if (count > voters.length / 2 && c > best) best = c;
  }
  return best;
}

/** Naive: enumerate every completion of the missing votes. */
function naiveVote(voters: bigint[], votes: Map<bigint, boolean>): VoteResult {
  if (voters.length === 0) return VoteResult.Won;
  const granted = voters.filter((id) => votes.get(id) === true).length;
  const missing = voters.filter((id) => !votes.has(id)).length;
  const wins = (g: number): boolean => g * 2 > voters.length;
  if (wins(granted)) return VoteResult.Won;
  if (wins(granted + missing)) return VoteResult.Pending;
  return VoteResult.Lost;
}

const ackedArb = fc.array(fc.tuple(idArb, fc.integer({ min: 0, max: 20 })), { maxLength: 12 }).map((pairs) => new Map(pairs));
const votesArb = fc.array(fc.tuple(idArb, fc.boolean()), { maxLength: 12 }).map((pairs) => new Map(pairs));

describe('majority quorum (§5.3: an entry is committed once stored on a majority)', () => {
  it('committed index equals the naive definition', () => {
    fc.assert(fc.property(votersArb, ackedArb, (voters, acked) => {
      expect(majorityCommittedIndex(new Set(voters), (id) => acked.get(id))).toBe(naiveCommitted(voters, acked));
    }), { numRuns: 500 });
  });

  it('examples: 3 voters need 2 acks, 4 voters need 3', () => {
    const ack = (m: Record<string, number>) => (id: bigint) => m[id.toString()];
    expect(majorityCommittedIndex(new Set([1n, 2n, 3n]), ack({ 1: 5, 2: 3 }))).toBe(3);
    expect(majorityCommittedIndex(new Set([1n, 2n, 3n, 4n]), ack({ 1: 5, 2: 3, 3: 1 }))).toBe(1);
  });
});

describe('vote result (§5.2: a candidate wins with votes from a majority)', () => {
  it('equals the naive definition', () => {
    fc.assert(fc.property(votersArb, votesArb, (voters, votes) => {
      expect(majorityVoteResult(new Set(voters), votes)).toBe(naiveVote(voters, votes));
    }), { numRuns: 500 });
  });
});

describe('joint quorum (§6: agreement requires separate majorities of C_old and C_new)', () => {
  it('committed index is the min of both halves', () => {
    fc.assert(fc.property(votersArb, votersArb, ackedArb, (incoming, outgoing, acked) => {
      const got = jointCommittedIndex({ incoming: new Set(incoming), outgoing: new Set(outgoing) }, (id) => acked.get(id));
      expect(got).toBe(Math.min(naiveCommitted(incoming, acked), naiveCommitted(outgoing, acked)));
    }), { numRuns: 500 });
  });

  it('vote: won only if both won, lost if either lost', () => {
    fc.assert(fc.property(votersArb, votersArb, votesArb, (incoming, outgoing, votes) => {
      const a = naiveVote(incoming, votes);
      const b = naiveVote(outgoing, votes);
      const expected = a === VoteResult.Won && b === VoteResult.Won ? VoteResult.Won
        : a === VoteResult.Lost || b === VoteResult.Lost ? VoteResult.Lost : VoteResult.Pending;
      expect(jointVoteResult({ incoming: new Set(incoming), outgoing: new Set(outgoing) }, votes)).toBe(expected);
    }), { numRuns: 500 });
  });

  it('a joint config with identical halves behaves like the majority config', () => {
    fc.assert(fc.property(votersArb, ackedArb, (voters, acked) => {
      const set = new Set(voters);
      expect(jointCommittedIndex({ incoming: set, outgoing: set }, (id) => acked.get(id)))
        .toBe(majorityCommittedIndex(set, (id) => acked.get(id)));
    }));
  });
});
