// Leadership transfer (thesis §3.10): bring the target up to date, send TimeoutNow, refuse
// proposals meanwhile, abandon the transfer after an election timeout.
import { ProposalDroppedError } from '../../src/errors';
import { MessageType, StateType } from '../../src/types';
import { Cluster } from './cluster';
import { enc } from './helpers';

function started(opts = {}): Cluster {
  const c = new Cluster([1, 2, 3], opts);
  c.stabilize();
  c.get(1).node.campaign();
  c.stabilize();
  expect(c.leaderId()).toBe(1n);
  return c;
}

describe('leader transfer (thesis §3.10)', () => {
  it('hands leadership to an up-to-date follower with TimeoutNow', () => {
    const c = started();
    const term = c.get(1).node.status().hardState.term;
    c.get(1).node.transferLeader(2n);
    c.stabilize();
    expect(c.leaderId()).toBe(2n);
    expect(c.get(2).node.status().hardState.term).toBe(term + 1);
    expect(c.get(1).node.raft.state).toBe(StateType.Follower);
  });

  it('works with check-quorum: the transfer vote bypasses followers\' leader lease', () => {
    const c = started({ checkQuorum: true, preVote: true });
    c.get(1).node.transferLeader(3n);
    c.stabilize();
    expect(c.leaderId()).toBe(3n);
  });

  it('first catches a lagging target up, then sends TimeoutNow', () => {
    const c = started();
    c.setDown(3, true);
    c.get(1).node.propose(enc('a'));
    c.stabilize();
    c.setDown(3, false);
    c.get(1).node.transferLeader(3n);
    c.stabilize();
    const timeoutNow = c.sent.findIndex((m) => m.type === MessageType.TimeoutNow);
    const lastAppTo3 = c.sent.slice(0, timeoutNow).filter((m) => m.type === MessageType.App && m.to === 3n && m.entries.length > 0);
    expect(lastAppTo3.length).toBeGreaterThan(0);
    expect(c.leaderId()).toBe(3n);
    expect(c.get(3).applied).toEqual(['a']);
  });

  it('refuses proposals while a transfer is in flight and aborts it after an election timeout', () => {
    const c = started();
    c.setDown(3, true);
    c.get(1).node.transferLeader(3n);
    c.stabilize();
    expect(c.get(1).node.status().leadTransferee).toBe(3n);
    expect(() => c.get(1).node.propose(enc('x'))).toThrow(ProposalDroppedError);
    for (let i = 0; i < 10; i++) {
      c.get(1).node.tick();
      c.stabilize();
    }
    expect(c.get(1).node.status().leadTransferee).toBe(0n);
    expect(c.leaderId()).toBe(1n);
    expect(() => c.get(1).node.propose(enc('x'))).not.toThrow();
  });

  it('followers forward a transfer request to the leader; transfer to the leader itself is a no-op', () => {
    const c = started();
    c.get(2).node.transferLeader(1n);
    c.stabilize();
    expect(c.leaderId()).toBe(1n);
    c.get(3).node.transferLeader(3n);
    c.stabilize();
    expect(c.leaderId()).toBe(3n);
  });

  it('ignores a transfer to a node outside the configuration', () => {
    const c = started();
    c.get(1).node.transferLeader(9n);
    c.stabilize();
    expect(c.get(1).node.status().leadTransferee).toBe(0n);
    expect(c.leaderId()).toBe(1n);
  });
});
