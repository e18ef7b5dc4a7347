// Log replication: paper §5.3 (AppendEntries, consistency check, log repair), §5.4.2 (committing
// entries from previous terms), and the leader's flow control (probe / pipelined replicate with
// an inflight window bounded in messages and bytes).
import { MemoryStorage } from '../../src/storage';
import { type Entry, type Message, EntryType, MessageType, ProgressState, StateType, emptyConfState } from '../../src/types';
import { Network, entry, ids, logSummary, newTestRaft, propose, readMessages, stepMsg } from './helpers';

function storageWithLog(voters: bigint[], terms: number[], hardTerm: number): MemoryStorage {
  const s = MemoryStorage.withConfState({ ...emptyConfState(), voters });
  s.append(terms.map((t, i) => entry(t, i + 1)));
  s.setHardState({ term: hardTerm, vote: 0n, commit: 0 });
  return s;
}

describe('§5.3 log replication', () => {
  it('the leader appends a proposal, replicates it and commits once a majority stored it', () => {
    const net = new Network(3);
    net.campaign(1);
    net.isolate(3);
    net.propose(1, 'a');
    expect(net.node(1).raftLog.committed).toBe(2);
    expect(net.node(2).raftLog.committed).toBe(2);
    expect(logSummary(net.node(3))).toEqual(['1/1']);
  });

  it('followers reject an App whose previous entry does not match, with a hint', () => {
    const r = newTestRaft(2n, ids(1, 2, 3), { storage: storageWithLog(ids(1, 2, 3), [1, 1, 2], 2) });
    stepMsg(r, { type: MessageType.App, from: 1n, to: 2n, term: 3, index: 3, logTerm: 3, entries: [entry(3, 4)] });
    expect(readMessages(r)[0]).toMatchObject({ type: MessageType.AppResp, reject: true, index: 3, rejectHint: 3, logTerm: 2 });
  });

  // Figure 7 of the paper: followers (a)-(f) with missing, extra and conflicting entries. The
  // leader for term 8 must bring every one of them to its own log.
  const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  const followers: Array<[string, number[]]> = [
    ['a', [1, 1, 1, 4, 4, 5, 5, 6, 6]],
    ['b', [1, 1, 1, 4]],
    ['c', [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6]],
    ['d', [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7]],
    ['e', [1, 1, 1, 4, 4, 4, 4]],
    ['f', [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]],
  ];
  it.each(followers)('Figure 7 follower (%s) converges to the leader log', (_name, followerLog) => {
    const voters = ids(1, 2, 3);
    const s1 = storageWithLog(voters, leaderLog, 7);
    const s2 = storageWithLog(voters, followerLog, 7);
    const s3 = storageWithLog(voters, leaderLog, 7);
    const leader = newTestRaft(1n, voters, { storage: s1 });
    const net = Network.of([leader, newTestRaft(2n, voters, { storage: s2 }), newTestRaft(3n, voters, { storage: s3 })], [s1, s2, s3]);
    // Node 3 votes for 1 (same log) so node 1 leads term 8 even if node 2 refuses.
    leader.becomeFollower(7, 0n);
    net.campaign(1);
    expect(leader.state).toBe(StateType.Leader);
    net.propose(1, 'x');
    const expected = logSummary(leader);
    expect(logSummary(net.node(2))).toEqual(expected);
    expect(net.node(2).raftLog.committed).toBe(leader.raftLog.committed);
  });

  it('fast backtracking needs one round trip per divergent term, not per entry', () => {
    const voters = ids(1, 2);
    const leaderTerms = [1, ...Array<number>(50).fill(3)];
    const followerTerms = [1, ...Array<number>(60).fill(2)];
    const s1 = storageWithLog(voters, leaderTerms, 3);
    const s2 = storageWithLog(voters, followerTerms, 3);
    const leader = newTestRaft(1n, voters, { storage: s1 });
    const net = Network.of([leader, newTestRaft(2n, voters, { storage: s2 })], [s1, s2]);
    leader.becomeCandidate();
    leader.becomeLeader();
    net.send(...readMessages(leader));
    net.tick(1); // heartbeat: follower answers, leader probes
    const rejections = net.delivered.filter((m) => m.type === MessageType.AppResp && m.reject).length;
    expect(logSummary(net.node(2))).toEqual(logSummary(leader));
    expect(rejections).toBeLessThanOrEqual(2);
  });

  it('followers learn the commit index from heartbeats capped at their match', () => {
    const net = new Network(3);
    net.campaign(1);
    net.propose(1, 'a');
    net.ignore(MessageType.App);
    net.propose(1, 'b'); // not replicated
    net.recover();
    const f = net.node(2);
    net.setFilter((m) => m.type === MessageType.Heartbeat);
    net.tick(1);
    expect(f.raftLog.committed).toBe(2);
  });
});

describe('§5.4.2 committing entries from previous terms', () => {
  it('a leader does not commit an old-term entry by counting replicas; its own-term entry commits both', () => {
    // Node 1 has an uncommitted term-2 entry at index 2; it leads term 3.
    const voters = ids(1, 2, 3);
    const s1 = storageWithLog(voters, [1, 2], 2);
    const r = newTestRaft(1n, voters, { storage: s1 });
    r.becomeFollower(2, 0n);
    r.becomeCandidate();
    r.becomeLeader();
    const emptyEntry = r.raftLog.allEntries()[2]!;
    expect(emptyEntry).toMatchObject({ term: 3, index: 3, type: EntryType.Normal });
    expect(emptyEntry.data.length).toBe(0);
    // Follower 2 acknowledges only index 2 (the old-term entry): a majority has it, yet no commit.
    stepMsg(r, { type: MessageType.AppResp, from: 2n, to: 1n, term: 3, index: 2 });
    expect(r.raftLog.committed).toBe(0);
    stepMsg(r, { type: MessageType.AppResp, from: 2n, to: 1n, term: 3, index: 3 });
    expect(r.raftLog.committed).toBe(3);
  });
});

describe('flow control', () => {
  function leaderWithFollowerInReplicate(opts: { maxInflightMsgs?: number; maxInflightBytes?: number; maxSizePerMsg?: number }) {
    const r = newTestRaft(1n, ids(1, 2), opts);
    r.becomeCandidate();
    r.becomeLeader();
    readMessages(r);
    // Follower acks the empty entry: probe → replicate.
    stepMsg(r, { type: MessageType.AppResp, from: 2n, to: 1n, term: r.term, index: 1 });
    readMessages(r);
    expect(r.trk.progress.get(2n)!.state).toBe(ProgressState.Replicate);
    return r;
  }
  const apps = (msgs: Message[]): Message[] => msgs.filter((m) => m.type === MessageType.App && m.entries.length > 0);

  it('pipelines up to maxInflightMsgs Apps without acks, then pauses until an ack', () => {
    const r = leaderWithFollowerInReplicate({ maxInflightMsgs: 3 });
    for (let i = 0; i < 5; i++) propose(r, `p${i}`);
    const sent = apps(readMessages(r));
    expect(sent.map((m) => m.entries.map((e) => e.index))).toEqual([[2], [3], [4]]);
    stepMsg(r, { type: MessageType.AppResp, from: 2n, to: 1n, term: r.term, index: 3 });
    // Two slots freed: the remaining entries go out in one message (they fit maxSizePerMsg).
    expect(apps(readMessages(r)).map((m) => m.entries.map((e) => e.index))).toEqual([[5, 6]]);
  });

  it('bounds bytes in flight with maxInflightBytes', () => {
    const r = leaderWithFollowerInReplicate({ maxInflightBytes: 250 });
    for (let i = 0; i < 5; i++) propose(r, 'x'.repeat(100));
    const sent = apps(readMessages(r));
    expect(sent.length).toBe(3); // 100+100 < 250, the third crosses the cap, then full
    expect(r.trk.progress.get(2n)!.inflights.bytes).toBe(300);
  });

  it('a probing follower gets one App at a time', () => {
    const r = newTestRaft(1n, ids(1, 2));
    r.becomeCandidate();
    r.becomeLeader();
    expect(apps(readMessages(r)).length).toBe(0);
    propose(r, 'a');
    propose(r, 'b');
    expect(readMessages(r).filter((m) => m.type === MessageType.App).length).toBe(1);
    expect(r.trk.progress.get(2n)!.state).toBe(ProgressState.Probe);
  });

  it('splits entries by maxSizePerMsg', () => {
    const r = leaderWithFollowerInReplicate({ maxSizePerMsg: 300 });
    stepMsg(r, {
      type: MessageType.Prop, from: 1n,
      entries: [1, 2, 3, 4].map((): Entry => ({ term: 0, index: 0, type: EntryType.Normal, data: new Uint8Array(120) })),
    });
    expect(apps(readMessages(r)).map((m) => m.entries.length)).toEqual([2, 2]);
  });

  it('an unreachable follower falls back to probing', () => {
    const r = leaderWithFollowerInReplicate({});
    stepMsg(r, { type: MessageType.Unreachable, from: 2n });
    expect(r.trk.progress.get(2n)!.state).toBe(ProgressState.Probe);
  });

  it('a heartbeat response frees a slot of a full window (lost acks do not wedge replication)', () => {
    const r = leaderWithFollowerInReplicate({ maxInflightMsgs: 1 });
    propose(r, 'a');
    propose(r, 'b');
    expect(apps(readMessages(r)).length).toBe(1);
    stepMsg(r, { type: MessageType.HeartbeatResp, from: 2n, to: 1n, term: r.term });
    expect(apps(readMessages(r)).length).toBe(1);
  });
});
