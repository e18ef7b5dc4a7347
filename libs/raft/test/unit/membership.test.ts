// Membership changes through the log: thesis §4.1 (single-server changes, one at a time),
// §4.3 / paper §6 (joint consensus), §4.2.2 (removing the current leader), §4.2.1 (learners /
// non-voting members catching up), and promotion of learners.
import { decodeEntryConfChange } from '../../src/confchange-codec';
import { ProposalDroppedError } from '../../src/errors';
import { ConfChangeTransition, ConfChangeType, EntryType, MessageType, StateType } from '../../src/types';
import { applyConfChange } from '../../src/core/conf';
import { Cluster } from './cluster';
import { enc, ids, newTestRaft, propose, readMessages, stepMsg } from './helpers';

function started(voters: number[], opts = {}, learners: number[] = []): Cluster {
  const c = new Cluster(voters, opts, learners);
  c.stabilize(); // apply the bootstrap configuration first: unapplied conf changes block campaigns
  c.get(voters[0]!).node.campaign();
  c.stabilize();
  expect(c.leaderId()).toBe(BigInt(voters[0]!));
  return c;
}

describe('single-server changes (thesis §4.1)', () => {
  it('adds a voter that catches up from an empty log and then counts in quorums', () => {
    const c = started([1, 2, 3]);
    c.get(1).node.propose(enc('before'));
    c.stabilize();
    c.addNode(4n); // empty storage: learns the configuration from the bootstrap entries
    c.get(1).node.proposeConfChange({ type: ConfChangeType.AddNode, nodeId: 4n });
    c.stabilize();
    expect(c.get(1).confState.voters).toEqual([1n, 2n, 3n, 4n]);
    expect(c.get(4).applied).toEqual(['before']);
    expect(c.get(4).confState.voters).toEqual([1n, 2n, 3n, 4n]);
    // With 4 voters a quorum is 3: nodes 2 and 3 down blocks commit.
    c.setDown(2, true);
    c.setDown(3, true);
    c.get(1).node.propose(enc('blocked'));
    c.stabilize();
    expect(c.get(4).applied).not.toContain('blocked');
    c.setDown(3, false);
    c.tickAll(2);
    expect(c.get(4).applied).toContain('blocked');
  });

  it('allows only one pending conf change: a second one is replaced by an empty entry', () => {
    const c = started([1, 2, 3]);
    c.setFilter(() => false); // hold replication so the first change stays uncommitted
    c.get(1).node.proposeConfChange({ type: ConfChangeType.AddNode, nodeId: 4n });
    c.get(1).node.proposeConfChange({ type: ConfChangeType.AddNode, nodeId: 5n });
    const log = c.get(1).node.raft.raftLog;
    const tail = log.slice(log.lastIndex() - 1, log.lastIndex() + 1, 1e9);
    expect(tail.map((e) => e.type)).toEqual([EntryType.ConfChange, EntryType.Normal]);
    expect(decodeEntryConfChange(tail[0]!).changes[0]!.nodeId).toBe(4n);
    c.setFilter(undefined);
    c.tickAll(3);
    expect(c.get(1).confState.voters).toEqual([1n, 2n, 3n, 4n]);
    // Once applied, a new change is accepted again.
    c.get(1).node.proposeConfChange({ type: ConfChangeType.RemoveNode, nodeId: 4n });
    c.stabilize();
    expect(c.get(1).confState.voters).toEqual([1n, 2n, 3n]);
  });

  it('a node with an unapplied committed conf change does not campaign', () => {
    const c = started([1, 2, 3]);
    const r = c.get(2).node.raft;
    r.raftLog.append([{ term: r.term, index: r.raftLog.lastIndex() + 1, type: EntryType.ConfChange, data: new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0]) }]);
    r.raftLog.commitTo(r.raftLog.lastIndex());
    c.get(2).node.campaign();
    expect(r.state).toBe(StateType.Follower);
  });
});

describe('joint consensus (paper §6, thesis §4.3)', () => {
  it('a multi-voter change goes through C_old,new and leaves it automatically', () => {
    const c = started([1, 2, 3]);
    c.addNode(4n);
    c.addNode(5n);
    const seenJoint: bigint[][] = [];
    c.get(1).node.proposeConfChange({
      transition: ConfChangeTransition.Auto,
      changes: [{ type: ConfChangeType.AddNode, nodeId: 4n }, { type: ConfChangeType.AddNode, nodeId: 5n }, { type: ConfChangeType.RemoveNode, nodeId: 3n }],
    });
    for (let i = 0; i < 50 && c.get(1).confState.votersOutgoing.length === 0; i++) c.pump();
    seenJoint.push(c.get(1).confState.votersOutgoing);
    c.stabilize();
    expect(seenJoint[0]).toEqual([1n, 2n, 3n]);
    expect(c.get(1).confState).toEqual({ voters: [1n, 2n, 4n, 5n], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false });
    expect(c.get(5).confState.voters).toEqual([1n, 2n, 4n, 5n]);
  });

  it('in a joint config, commit needs majorities of both halves', () => {
    const c = started([1, 2, 3]);
    c.addNode(4n);
    c.addNode(5n);
    c.addNode(6n);
    c.get(1).node.proposeConfChange({
      transition: ConfChangeTransition.Explicit,
      changes: [4, 5, 6].map((n) => ({ type: ConfChangeType.AddNode, nodeId: BigInt(n) })).concat(
        [2, 3].map((n) => ({ type: ConfChangeType.RemoveNode, nodeId: BigInt(n) }))),
    });
    c.stabilize();
    expect(c.get(1).confState.votersOutgoing).toEqual([1n, 2n, 3n]); // explicit: stays joint
    expect(c.get(1).confState.voters).toEqual([1n, 4n, 5n, 6n]);
    // Outgoing half {1,2,3} loses its majority: nothing commits even though {1,4,5,6} is up.
    c.setDown(2, true);
    c.setDown(3, true);
    c.get(1).node.propose(enc('needs-both'));
    c.stabilize();
    expect(c.get(1).applied).not.toContain('needs-both');
    c.setDown(2, false);
    c.tickAll(2);
    expect(c.get(1).applied).toContain('needs-both');
    // Leave explicitly with an empty V2 change.
    c.get(1).node.proposeConfChange({ transition: ConfChangeTransition.Auto, changes: [] });
    c.stabilize();
    expect(c.get(1).confState).toMatchObject({ voters: [1n, 4n, 5n, 6n], votersOutgoing: [] });
  });

  it('refuses a new change while joint, and an empty change while not joint', () => {
    const c = started([1, 2, 3]);
    const leaderLog = () => c.get(1).node.raft.raftLog;
    c.get(1).node.proposeConfChange({ transition: ConfChangeTransition.Auto, changes: [] });
    expect(leaderLog().slice(leaderLog().lastIndex(), leaderLog().lastIndex() + 1, 1e9)[0]!.type).toBe(EntryType.Normal);
    c.stabilize();
    c.get(1).node.proposeConfChange({ transition: ConfChangeTransition.Explicit, changes: [{ type: ConfChangeType.AddLearnerNode, nodeId: 9n }] });
    c.stabilize();
    expect(c.get(1).confState.votersOutgoing).toEqual([1n, 2n, 3n]);
    c.get(1).node.proposeConfChange({ type: ConfChangeType.AddNode, nodeId: 8n });
    expect(leaderLog().slice(leaderLog().lastIndex(), leaderLog().lastIndex() + 1, 1e9)[0]!.type).toBe(EntryType.Normal);
  });
});

describe('removing the leader (thesis §4.2.2)', () => {
  it('a leader that removes itself steps down and hands off without waiting for a timeout', () => {
    const c = started([1, 2, 3]);
    c.get(1).node.propose(enc('x'));
    c.stabilize();
    c.get(1).node.proposeConfChange({ type: ConfChangeType.RemoveNode, nodeId: 1n });
    c.stabilize();
    expect(c.get(1).node.raft.state).toBe(StateType.Follower);
    expect(c.get(1).confState.voters).toEqual([2n, 3n]);
    const newLeader = c.leaderId();
    expect(newLeader === 2n || newLeader === 3n).toBe(true);
    expect(c.sent.some((m) => m.type === MessageType.TimeoutNow && m.from === 1n)).toBe(true);
    c.get(newLeader!).node.propose(enc('after'));
    c.stabilize();
    expect(c.get(2).applied).toContain('after');
    expect(c.get(3).applied).toContain('after');
    expect(() => c.get(1).node.propose(enc('removed'))).toThrow(ProposalDroppedError);
  });
});

describe('learners (non-voting members)', () => {
  it('receive the log, never campaign, and can be promoted to voters', () => {
    const c = started([1, 2, 3], {}, [4]);
    c.get(1).node.propose(enc('a'));
    c.stabilize();
    expect(c.get(4).applied).toEqual(['a']);
    expect(c.get(4).node.raft.isLearner).toBe(true);
    // Leader down: the learner never campaigns, a voter does.
    c.setDown(1, true);
    c.tickAll(60);
    const lead = c.leaderId();
    expect(lead === 2n || lead === 3n).toBe(true);
    expect(c.sent.some((m) => (m.type === MessageType.Vote || m.type === MessageType.PreVote) && m.from === 4n)).toBe(false);
    c.get(lead!).node.proposeConfChange({ type: ConfChangeType.AddNode, nodeId: 4n });
    c.stabilize();
    expect(c.get(4).confState).toMatchObject({ voters: [1n, 2n, 3n, 4n], learners: [] });
    expect(c.get(4).node.raft.isLearner).toBe(false);
  });

  it('a learner is never the target of a leadership transfer', () => {
    const c = started([1, 2, 3], {}, [4]);
    c.get(1).node.transferLeader(4n);
    c.stabilize();
    expect(c.leaderId()).toBe(1n);
    expect(c.get(1).node.status().leadTransferee).toBe(0n);
  });
});

describe('removed leader hand-off (thesis §4.2.2)', () => {
  it('stays on as a lame duck until a remaining voter holds the whole log, then sends TimeoutNow', () => {
    const r = newTestRaft(1n, ids(1, 2, 3));
    r.becomeCandidate();
    r.becomeLeader();
    propose(r, 'a');
    readMessages(r);
    const last = r.raftLog.lastIndex();
    r.trk.progress.get(2n)!.maybeUpdate(last - 1);
    r.trk.progress.get(3n)!.maybeUpdate(last - 2);
    applyConfChange(r, { transition: ConfChangeTransition.Auto, changes: [{ type: ConfChangeType.RemoveNode, nodeId: 1n }] });
    expect(r.state).toBe(StateType.Leader);
    expect(r.leadTransferee).toBe(2n); // the most up-to-date remaining voter
    expect(() => propose(r, 'refused')).toThrow(ProposalDroppedError);
    readMessages(r);
    stepMsg(r, { type: MessageType.AppResp, from: 2n, to: 1n, term: r.term, index: last });
    expect(readMessages(r).filter((m) => m.type === MessageType.TimeoutNow).map((m) => m.to)).toEqual([2n]);
    expect(r.state).toBe(StateType.Follower);
  });
});
