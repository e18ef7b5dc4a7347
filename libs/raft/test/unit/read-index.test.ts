// Linearizable reads with ReadIndex (thesis §6.4): the leader records its commit index, confirms
// it is still leader with a heartbeat round, and the read is served once applied >= that index.
import { MessageType, ReadOnlyOption } from '../../src/types';
import { Cluster } from './cluster';
import { enc, dec } from './helpers';

function leaderCluster(opts = {}): { c: Cluster; lead: bigint } {
  const c = new Cluster([1, 2, 3], opts);
  c.stabilize();
  c.get(1).node.campaign();
  c.stabilize();
  return { c, lead: c.electLeader() };
}

describe('ReadIndex (thesis §6.4)', () => {
  it('the leader answers after a quorum acknowledges a heartbeat carrying the request context', () => {
    const { c } = leaderCluster();
    c.get(1).node.propose(enc('a'));
    c.stabilize();
    const before = c.sent.length;
    const committed = c.get(1).node.raft.raftLog.committed;
    c.get(1).node.readIndex(enc('req-1'));
    c.stabilize();
    const rs = c.get(1).readStates;
    expect(rs).toHaveLength(1);
    expect(rs[0]!.index).toBe(committed);
    expect(dec(rs[0]!.requestCtx)).toBe('req-1');
    const heartbeats = c.sent.slice(before).filter((m) => m.type === MessageType.Heartbeat);
    expect(heartbeats.length).toBe(2);
    expect(heartbeats.every((m) => m.context !== undefined && dec(m.context) === 'req-1')).toBe(true);
  });

  it('is not answered without a quorum (a deposed leader cannot serve stale reads)', () => {
    const { c } = leaderCluster();
    c.setDown(2, true);
    c.setDown(3, true);
    c.get(1).node.readIndex(enc('r'));
    c.stabilize();
    expect(c.get(1).readStates).toHaveLength(0);
  });

  it('batches: many requests before one Ready are confirmed by one heartbeat round', () => {
    const { c } = leaderCluster();
    const before = c.sent.length;
    for (let i = 0; i < 10; i++) c.get(1).node.readIndex(enc(`r${i}`));
    c.stabilize();
    expect(c.get(1).readStates.map((rs) => dec(rs.requestCtx))).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`));
    const heartbeats = c.sent.slice(before).filter((m) => m.type === MessageType.Heartbeat);
    expect(heartbeats.length).toBe(2); // one round, to the two followers
  });

  it('followers forward ReadIndex to the leader and receive the read point', () => {
    const { c } = leaderCluster();
    c.get(1).node.propose(enc('a'));
    c.stabilize();
    const committed = c.get(1).node.raft.raftLog.committed;
    c.get(3).node.readIndex(enc('from-3'));
    c.stabilize();
    expect(c.get(3).readStates).toEqual([{ index: committed, requestCtx: enc('from-3') }]);
    expect(c.sent.some((m) => m.type === MessageType.ReadIndexResp && m.to === 3n)).toBe(true);
  });

  it('LeaseBased answers at once without a heartbeat round', () => {
    const { c } = leaderCluster({ checkQuorum: true, readOnlyOption: ReadOnlyOption.LeaseBased });
    const before = c.sent.length;
    c.get(1).node.readIndex(enc('lease'));
    c.stabilize();
    expect(c.get(1).readStates).toHaveLength(1);
    expect(c.sent.slice(before).filter((m) => m.type === MessageType.Heartbeat)).toHaveLength(0);
  });

  it('a new leader defers reads until an entry of its term commits', () => {
    const c = new Cluster([1, 2, 3]);
    c.stabilize();
    c.get(1).node.campaign();
    // Deliver votes but hold back appends so the leader's empty entry does not commit yet.
    c.setFilter((m) => m.type !== MessageType.App && m.type !== MessageType.AppResp);
    c.stabilize();
    expect(c.leaderId()).toBe(1n);
    c.get(1).node.readIndex(enc('early'));
    c.stabilize();
    expect(c.get(1).readStates).toHaveLength(0);
    c.setFilter(undefined);
    c.tickAll(2);
    expect(c.get(1).readStates.map((r) => dec(r.requestCtx))).toEqual(['early']);
    expect(c.get(1).readStates[0]!.index).toBe(4); // the new leader's empty entry (after 3 bootstrap entries)
  });

  it('with no leader, a read request is dropped (the caller retries)', () => {
    const c = new Cluster([1, 2, 3]);
    c.get(2).node.readIndex(enc('x'));
    c.stabilize();
    expect(c.get(2).readStates).toHaveLength(0);
  });
});
