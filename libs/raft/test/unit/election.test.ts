// Leader election: paper §5.2 (elections), §5.1 (terms), §5.4.1 (election restriction);
// thesis §9.6 (pre-vote) and §6.2 / §4.2.3 (check-quorum and leader leases).
import { tick } from '../../src/core/step';
import { MessageType, StateType, newMessage } from '../../src/types';
import { Network, ids, newTestRaft, readMessages, stepMsg } from './helpers';

describe('§5.2 leader election', () => {
  it('a candidate with votes from a majority becomes leader; others follow it', () => {
    const net = new Network(5);
    net.isolate(4);
    net.isolate(5);
    net.campaign(1);
    expect(net.node(1).state).toBe(StateType.Leader);
    expect(net.node(1).term).toBe(1);
    expect(net.node(2).lead).toBe(1n);
    expect(net.node(4).state).toBe(StateType.Follower);
  });

  it('without a majority the candidate stays candidate', () => {
    const net = new Network(5);
    net.isolate(3);
    net.isolate(4);
    net.isolate(5);
    net.campaign(1);
    expect(net.node(1).state).toBe(StateType.Candidate);
  });

  it('a node grants at most one vote per term (first come)', () => {
    const r = newTestRaft(1n, ids(1, 2, 3));
    stepMsg(r, { type: MessageType.Vote, from: 2n, to: 1n, term: 1, index: 0, logTerm: 0 });
    stepMsg(r, { type: MessageType.Vote, from: 3n, to: 1n, term: 1, index: 0, logTerm: 0 });
    const resps = readMessages(r);
    expect(resps.map((m) => [m.to, m.reject])).toEqual([[2n, false], [3n, true]]);
    expect(r.vote).toBe(2n);
  });

  it('a candidate receiving App from a leader of its term becomes follower', () => {
    const r = newTestRaft(1n, ids(1, 2, 3));
    stepMsg(r, { type: MessageType.Hup, from: 1n });
    expect(r.state).toBe(StateType.Candidate);
    stepMsg(r, { type: MessageType.App, from: 2n, to: 1n, term: r.term });
    expect(r.state).toBe(StateType.Follower);
    expect(r.lead).toBe(2n);
  });

  it('election timeouts are randomised in [electionTick, 2*electionTick)', () => {
    const r = newTestRaft(1n, ids(1, 2, 3));
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      r.resetRandomizedElectionTimeout();
      seen.add(r.randomizedElectionTimeout);
      expect(r.randomizedElectionTimeout).toBeGreaterThanOrEqual(10);
      expect(r.randomizedElectionTimeout).toBeLessThan(20);
    }
    expect(seen.size).toBe(10);
  });

  it('a follower campaigns exactly when its randomised timeout elapses', () => {
    const r = newTestRaft(1n, ids(1, 2, 3));
    const timeout = r.randomizedElectionTimeout;
    for (let i = 1; i < timeout; i++) tick(r);
    expect(r.state).toBe(StateType.Follower);
    tick(r);
    expect(r.state).toBe(StateType.Candidate);
    expect(readMessages(r).filter((m) => m.type === MessageType.Vote).map((m) => m.to)).toEqual([2n, 3n]);
  });

  it('same seed, same timeouts (determinism)', () => {
    const a = newTestRaft(7n, ids(7));
    const b = newTestRaft(7n, ids(7));
    for (let i = 0; i < 20; i++) {
      a.resetRandomizedElectionTimeout();
      b.resetRandomizedElectionTimeout();
      expect(a.randomizedElectionTimeout).toBe(b.randomizedElectionTimeout);
    }
  });

  it('a single-voter cluster elects itself at once', () => {
    const net = new Network(1);
    net.campaign(1);
    expect(net.node(1).state).toBe(StateType.Leader);
  });
});

describe('§5.1 terms', () => {
  it('a higher term turns a leader into a follower; lower-term messages are ignored', () => {
    const net = new Network(3);
    net.campaign(1);
    const leader = net.node(1);
    stepMsg(leader, { type: MessageType.App, from: 2n, to: 1n, term: 0 + 5 });
    expect(leader.state).toBe(StateType.Follower);
    expect(leader.term).toBe(5);
    stepMsg(leader, { type: MessageType.App, from: 3n, to: 1n, term: 2 });
    expect(leader.lead).toBe(2n);
  });
});

describe('§5.4.1 election restriction', () => {
  it('a candidate whose log is behind a majority cannot win', () => {
    const net = new Network(3);
    net.campaign(1);
    net.isolate(3);
    net.propose(1, 'a'); // nodes 1,2 have index 2; node 3 does not
    net.recover();
    net.isolate(1);
    net.campaign(3);
    expect(net.node(3).state).not.toBe(StateType.Leader);
    net.campaign(2);
    expect(net.node(2).state).toBe(StateType.Leader);
  });

  it('votes are refused to an out-of-date log', () => {
    const r = newTestRaft(1n, ids(1, 2, 3));
    r.raftLog.append([{ term: 2, index: 1, type: 0, data: new Uint8Array() }]);
    stepMsg(r, { type: MessageType.Vote, from: 2n, to: 1n, term: 3, index: 5, logTerm: 1 });
    expect(readMessages(r)[0]).toMatchObject({ type: MessageType.VoteResp, reject: true, term: 3 });
    stepMsg(r, { type: MessageType.Vote, from: 2n, to: 1n, term: 3, index: 1, logTerm: 2 });
    expect(readMessages(r)[0]).toMatchObject({ type: MessageType.VoteResp, reject: false });
  });
});

describe('thesis §9.6 pre-vote', () => {
  it('a partitioned node does not inflate its term and does not disrupt the leader on return', () => {
    const net = new Network(3, { preVote: true });
    net.campaign(1);
    expect(net.node(1).state).toBe(StateType.Leader);
    net.isolate(3);
    net.propose(1, 'while 3 is away'); // the majority's log moves ahead of node 3's
    for (let i = 0; i < 5; i++) net.campaign(3);
    expect(net.node(3).term).toBe(1);
    expect(net.node(3).state).toBe(StateType.PreCandidate);
    net.recover();
    net.campaign(3); // pre-vote fails: node 3's log is behind the majority's
    expect(net.node(1).state).toBe(StateType.Leader);
    expect(net.node(1).term).toBe(1);
  });

  it('a pre-vote request does not change the voter\'s term or vote', () => {
    const r = newTestRaft(1n, ids(1, 2, 3), { preVote: true });
    stepMsg(r, { type: MessageType.PreVote, from: 2n, to: 1n, term: 4, index: 0, logTerm: 0 });
    expect(r.term).toBe(0);
    expect(r.vote).toBe(0n);
    expect(readMessages(r)[0]).toMatchObject({ type: MessageType.PreVoteResp, reject: false, term: 4 });
  });

  it('a won pre-vote is followed by a real election at term+1', () => {
    const net = new Network(3, { preVote: true });
    net.campaign(2);
    expect(net.node(2).state).toBe(StateType.Leader);
    expect(net.node(2).term).toBe(1);
    expect(net.delivered.filter((m) => m.type === MessageType.PreVote).length).toBe(2);
  });
});

describe('thesis §6.2 check-quorum and leader lease', () => {
  it('a leader that has not heard from a quorum within an election timeout steps down', () => {
    const net = new Network(3, { checkQuorum: true });
    net.campaign(1);
    net.isolate(1);
    const leader = net.node(1);
    net.tick(1, leader.electionTimeout); // first check: followers were active before isolation
    net.tick(1, leader.electionTimeout);
    expect(leader.state).toBe(StateType.Follower);
    expect(leader.lead).toBe(0n);
  });

  it('a leader in contact with a quorum stays leader', () => {
    const net = new Network(3, { checkQuorum: true });
    net.campaign(1);
    net.isolate(3);
    for (let i = 0; i < 5; i++) net.tick(1, 10);
    expect(net.node(1).state).toBe(StateType.Leader);
  });

  it('followers in a leader lease ignore higher-term vote requests', () => {
    const net = new Network(3, { checkQuorum: true });
    net.campaign(1);
    const follower = net.node(2);
    stepMsg(follower, { type: MessageType.Vote, from: 3n, to: 2n, term: 5, index: 10, logTerm: 5 });
    expect(follower.term).toBe(1);
    expect(readMessages(follower)).toEqual([]);
    // Once the lease expires (an election timeout without the leader) the vote is considered.
    for (let i = 0; i < follower.electionTimeout; i++) {
      follower.electionElapsed++;
    }
    stepMsg(follower, { type: MessageType.Vote, from: 3n, to: 2n, term: 5, index: 10, logTerm: 5 });
    expect(follower.term).toBe(5);
    expect(readMessages(follower)[0]).toMatchObject({ type: MessageType.VoteResp, reject: false });
  });

  it('a stale leader hearing a higher term from AppResp steps down (check-quorum stale-term reply)', () => {
    const r = newTestRaft(1n, ids(1, 2, 3), { checkQuorum: true });
    r.becomeFollower(3, 0n);
    stepMsg(r, { type: MessageType.App, from: 2n, to: 1n, term: 2 });
    expect(readMessages(r)).toEqual([expect.objectContaining({ type: MessageType.AppResp, to: 2n, term: 3 })]);
  });
});

describe('learners never campaign and their votes do not count', () => {
  it('a learner ignores its election timeout', () => {
    const r = newTestRaft(2n, ids(1), { learners: ids(2) });
    expect(r.isLearner).toBe(true);
    for (let i = 0; i < 100; i++) tick(r);
    expect(r.state).toBe(StateType.Follower);
    expect(readMessages(r)).toEqual([]);
    stepMsg(r, { type: MessageType.Hup, from: 2n });
    expect(r.state).toBe(StateType.Follower);
  });

  it("a learner's granted vote does not make a candidate win", () => {
    const r = newTestRaft(1n, ids(1, 2), { learners: ids(3) });
    stepMsg(r, { type: MessageType.Hup, from: 1n });
    expect(readMessages(r).map((m) => m.to)).toEqual([2n]); // no vote request to the learner
    stepMsg(r, { type: MessageType.VoteResp, from: 3n, to: 1n, term: 1 });
    expect(r.state).toBe(StateType.Candidate);
    stepMsg(r, { type: MessageType.VoteResp, from: 2n, to: 1n, term: 1 });
    expect(r.state).toBe(StateType.Leader);
  });
});

describe('step() rejects nothing silently that matters', () => {
  it('a lost election returns the candidate to follower', () => {
    const r = newTestRaft(1n, ids(1, 2, 3));
    stepMsg(r, { type: MessageType.Hup, from: 1n });
    stepMsg(r, { type: MessageType.VoteResp, from: 2n, to: 1n, term: 1, reject: true });
    stepMsg(r, { type: MessageType.VoteResp, from: 3n, to: 1n, term: 1, reject: true });
    expect(r.state).toBe(StateType.Follower);
    void newMessage;
  });
});
