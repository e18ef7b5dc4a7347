// Log compaction and snapshots (paper §7): the application compacts; the leader sends a
// snapshot to a follower whose next entry was compacted; the follower restores log and
// configuration from it; reportSnapshot drives the leader's progress.
import { MessageType, ProgressState } from '../../src/types';
import { Cluster } from './cluster';
import { enc, ids, newTestRaft, readMessages, stepMsg, storageWithPeers } from './helpers';

function compactLeader(c: Cluster, id: number, data: string): number {
  const cn = c.get(id);
  const applied = cn.node.status().applied;
  cn.storage.createSnapshot(applied, cn.confState, enc(data));
  cn.storage.compact(applied);
  return applied;
}

describe('snapshots (paper §7)', () => {
  it('a follower behind the compacted log is caught up with a snapshot and then by entries', () => {
    const c = new Cluster([1, 2, 3]);
    c.stabilize();
    c.get(1).node.campaign();
    c.stabilize();
    c.setDown(3, true);
    for (let i = 0; i < 5; i++) c.get(1).node.propose(enc(`v${i}`));
    c.stabilize();
    const snapIndex = compactLeader(c, 1, 'state-at-snap');
    c.setDown(3, false);
    c.tickAll(3);
    const snaps = c.sent.filter((m) => m.type === MessageType.Snap && m.to === 3n);
    expect(snaps).toHaveLength(1);
    expect(snaps[0]!.snapshot!.metadata.index).toBe(snapIndex);
    expect(c.get(3).applied).toEqual([`snapshot@${snapIndex}:state-at-snap`]);
    expect(c.get(3).confState.voters).toEqual([1n, 2n, 3n]);
    // The leader learns the snapshot was installed (AppResp) and resumes replication.
    c.get(1).node.reportSnapshot(3n, false);
    c.get(1).node.propose(enc('after'));
    c.stabilize();
    c.tickAll(2);
    expect(c.get(3).applied).toContain('after');
    expect(c.get(1).node.status().progress!.get(3n)!.state).toBe(ProgressState.Replicate);
  });

  it('a failed snapshot send returns the follower to probe and a new snapshot is sent later', () => {
    const r = newTestRaft(1n, ids(1, 2), { storage: storageWithPeers(ids(1, 2)) });
    const storage = r.raftLog.storage as ReturnType<typeof storageWithPeers>;
    r.becomeCandidate();
    r.becomeLeader();
    storage.append(r.raftLog.unstableEntries());
    r.raftLog.stableTo(1, 1);
    stepMsg(r, { type: MessageType.HeartbeatResp, from: 2n, to: 1n, term: r.term });
    readMessages(r);
    r.raftLog.commitTo(1);
    r.raftLog.appliedTo(1);
    storage.createSnapshot(1, { voters: ids(1, 2), learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false }, enc('s'));
    storage.compact(1);
    // Follower rejects: its log is empty; leader must fall back to the snapshot.
    const pr = r.trk.progress.get(2n)!;
    pr.next = 1;
    pr.probeSent = false;
    stepMsg(r, { type: MessageType.HeartbeatResp, from: 2n, to: 1n, term: r.term });
    expect(readMessages(r).filter((m) => m.type === MessageType.Snap)).toHaveLength(1);
    expect(pr.state).toBe(ProgressState.Snapshot);
    expect(pr.pendingSnapshot).toBe(1);
    stepMsg(r, { type: MessageType.SnapStatus, from: 2n, reject: true });
    expect(pr.state).toBe(ProgressState.Probe);
    expect(pr.pendingSnapshot).toBe(0);
    expect(pr.probeSent).toBe(true); // waits for the next heartbeat response
    stepMsg(r, { type: MessageType.HeartbeatResp, from: 2n, to: 1n, term: r.term });
    expect(readMessages(r).filter((m) => m.type === MessageType.Snap)).toHaveLength(1);
  });

  it('a follower ignores a snapshot older than its commit and one that excludes it', () => {
    const r = newTestRaft(2n, ids(1, 2));
    stepMsg(r, {
      type: MessageType.Snap, from: 1n, to: 2n, term: 1,
      snapshot: { data: enc('x'), metadata: { index: 5, term: 1, confState: { voters: ids(1, 3), learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } } },
    });
    expect(r.raftLog.lastIndex()).toBe(0);
    expect(readMessages(r)[0]).toMatchObject({ type: MessageType.AppResp, index: 0 });
    stepMsg(r, {
      type: MessageType.Snap, from: 1n, to: 2n, term: 1,
      snapshot: { data: enc('x'), metadata: { index: 5, term: 1, confState: { voters: ids(1, 2), learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } } },
    });
    expect(r.raftLog.lastIndex()).toBe(5);
    expect(r.raftLog.committed).toBe(5);
    expect(readMessages(r)[0]).toMatchObject({ type: MessageType.AppResp, index: 5 });
  });
});
