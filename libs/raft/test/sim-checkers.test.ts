// The simulator's checkers must catch broken histories, or a green simulator proves nothing.
// Each case fabricates a small history that breaks (or keeps) one property.
import { type LogView, SafetyChecker } from '../src/testing';

function logOf(terms: number[], snapshotIndex = 0, snapshotTerm = 0): LogView {
  // terms[i] is the term of index snapshotIndex + 1 + i
  return {
    snapshotIndex,
    snapshotTerm,
    lastIndex: snapshotIndex + terms.length,
    termAt: (index) => (index === snapshotIndex ? snapshotTerm : terms[index - snapshotIndex - 1]),
  };
}

describe('SafetyChecker', () => {
  it('accepts a consistent history', () => {
    const c = new SafetyChecker();
    c.observeLeader(1n, 1, logOf([1]));
    for (const node of [1n, 2n, 3n]) {
      c.observeEntry(node, 1, 1, 'a', 0);
      c.observeEntry(node, 2, 1, 'b', 1);
      c.observeCommitted(node, 1, 1, 1);
      c.observeCommitted(node, 2, 1, 1);
      c.observeApply(node, 1, 'a', 11);
      c.observeApply(node, 2, 'b', 22);
    }
    c.observeAcknowledged('b', 2);
    c.observeLeader(1n, 1, logOf([1, 1])); // the same leader seen again
    c.observeLeader(2n, 2, logOf([1, 1, 2]));
    c.checkNothingLost(3n, 2, (p) => p === 'b');
    expect(c.violations).toEqual([]);
  });

  it('catches two leaders in one term (election safety, §5.2)', () => {
    const c = new SafetyChecker();
    c.observeLeader(1n, 3, logOf([]));
    c.observeLeader(2n, 3, logOf([]));
    expect(c.violations.map((v) => v.property)).toEqual(['election-safety']);
  });

  it('catches two payloads at one (index, term) (log matching, §5.3)', () => {
    const c = new SafetyChecker();
    c.observeEntry(1n, 4, 2, 'x', 1);
    c.observeEntry(2n, 4, 2, 'y', 1);
    expect(c.violations.map((v) => v.property)).toEqual(['log-matching']);
  });

  it('catches equal entries with different predecessors (log matching, §5.3)', () => {
    const c = new SafetyChecker();
    c.observeEntry(1n, 4, 3, 'x', 1);
    c.observeEntry(2n, 4, 3, 'x', 2);
    expect(c.violations.map((v) => v.property)).toEqual(['log-matching']);
  });

  it('catches a leader missing a committed entry (leader completeness, §5.4)', () => {
    const c = new SafetyChecker();
    c.observeCommitted(1n, 1, 1, 1);
    c.observeCommitted(1n, 2, 1, 1);
    c.observeLeader(2n, 2, logOf([1])); // lacks index 2
    expect(c.violations.map((v) => v.property)).toEqual(['leader-completeness']);
  });

  it('catches a leader with a different term at a committed index', () => {
    const c = new SafetyChecker();
    c.observeCommitted(1n, 1, 2, 2);
    c.observeLeader(3n, 3, logOf([1, 3]));
    expect(c.violations.map((v) => v.property)).toEqual(['leader-completeness']);
  });

  it('does not require entries committed in the leader\'s own or later terms', () => {
    const c = new SafetyChecker();
    c.observeCommitted(1n, 1, 4, 4);
    c.observeLeader(2n, 4, logOf([]));
    expect(c.violations).toEqual([]);
  });

  it('treats entries under the leader snapshot as present', () => {
    const c = new SafetyChecker();
    c.observeCommitted(1n, 5, 1, 1);
    c.observeLeader(2n, 2, logOf([2], 5, 1));
    expect(c.violations).toEqual([]);
  });

  it('catches divergent applied logs (state machine safety, §5.4.3)', () => {
    const c = new SafetyChecker();
    c.observeApply(1n, 1, 'a', 1);
    c.observeApply(2n, 1, 'b', 2);
    expect(c.violations.map((v) => v.property)).toContain('state-machine-safety');
  });

  it('catches a gap in a node\'s applied sequence', () => {
    const c = new SafetyChecker();
    c.observeApply(1n, 1, 'a', 1);
    c.observeApply(1n, 3, 'c', 3);
    expect(c.violations.map((v) => v.property)).toEqual(['state-machine-safety']);
  });

  it('catches a snapshot whose state differs from what others applied', () => {
    const c = new SafetyChecker();
    c.observeApply(1n, 1, 'a', 100);
    c.observeRestore(2n, 1, 999);
    expect(c.violations.map((v) => v.property)).toEqual(['state-machine-safety']);
  });

  it('catches one index committed with two terms', () => {
    const c = new SafetyChecker();
    c.observeCommitted(1n, 7, 2, 2);
    c.observeCommitted(2n, 7, 3, 3);
    expect(c.violations.map((v) => v.property)).toEqual(['state-machine-safety']);
  });

  it('catches a lost acknowledged proposal (durability)', () => {
    const c = new SafetyChecker();
    c.observeAcknowledged('p1', 5);
    c.checkNothingLost(2n, 9, () => false);
    expect(c.violations.map((v) => v.property)).toEqual(['durability']);
  });

  it('does not count proposals beyond a node\'s applied index as lost', () => {
    const c = new SafetyChecker();
    c.observeAcknowledged('p1', 5);
    c.checkNothingLost(2n, 4, () => false);
    expect(c.violations).toEqual([]);
  });
});
