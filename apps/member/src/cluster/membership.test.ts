import { ConfChangeTransition, ConfChangeType, type ConfChangeV2 } from '@keel/raft';
import type { StoreBatch } from '../apply/store-port';
import { createConfChangeHandler } from './conf-change';
import { Membership, clusterVersionKey, loadMembership, removedMemberIdOf, removedMemberKey, type MemberInfo } from './membership';

/** The members key space as a plain map, written through the two raw calls conf changes use. */
function recordingBatch(records: Map<string, Buffer>): StoreBatch {
  const batch: Partial<StoreBatch> = {
    rawPut: (_space, key, value) => void records.set(Buffer.from(key).toString('hex'), Buffer.from(value)),
    rawDelete: (_space, key) => void records.delete(Buffer.from(key).toString('hex')),
  };
  return batch as StoreBatch;
}

function scan(records: Map<string, Buffer>): Array<{ key: Buffer; value: Buffer }> {
  return [...records.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => ({ key: Buffer.from(key, 'hex'), value }));
}

const member = (id: bigint, name: string): MemberInfo => ({
  id,
  name,
  peerUrls: [`http://127.0.0.1:${2380 + Number(id)}`],
  clientUrls: [],
  isLearner: false,
});

function removal(nodeId: bigint): ConfChangeV2 {
  return { transition: ConfChangeTransition.Auto, changes: [{ type: ConfChangeType.RemoveNode, nodeId }] };
}

describe('removed-member markers', () => {
  it('round-trip an ID through the marker key and reject other keys', () => {
    const id = 0x8e9e05c52164694dn;
    expect(removedMemberIdOf(removedMemberKey(id))).toBe(id);
    expect(removedMemberIdOf(Buffer.alloc(8))).toBeUndefined();
    expect(removedMemberIdOf(clusterVersionKey)).toBeUndefined();
  });

  it('a removal applied before a restart is still known after it (a peer must keep refusing the removed member)', () => {
    const records = new Map<string, Buffer>();
    const membership = new Membership(7n);
    const handler = createConfChangeHandler({
      membership,
      applyToRaft: () => ({ voters: [1n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false }),
      selfId: 1n,
    });
    for (const m of [member(1n, 'a'), member(2n, 'b')]) membership.add(m);
    handler.apply(removal(2n), recordingBatch(records));
    records.set(Buffer.from(clusterVersionKey).toString('hex'), Buffer.from('3.4.0'));

    const reloaded = loadMembership(7n, scan(records));
    expect(reloaded.isRemoved(2n)).toBe(true);
    expect(reloaded.get(2n)).toBeUndefined();
    expect(reloaded.isRemoved(1n)).toBe(false);
    expect(reloaded.clusterVersion).toBe('3.4.0');
  });

  it('loads member records next to markers', () => {
    const records = new Map<string, Buffer>();
    const membership = new Membership(7n);
    membership.add(member(3n, 'c'));
    const batch = recordingBatch(records);
    batch.rawPut('members', Buffer.from('0000000000000003', 'hex'), Buffer.from(JSON.stringify({ ...member(3n, 'c'), id: '3' })));
    batch.rawPut('members', removedMemberKey(4n), Buffer.alloc(0));
    const reloaded = loadMembership(7n, scan(records));
    expect(reloaded.list().map((m) => m.name)).toEqual(['c']);
    expect(reloaded.isRemoved(4n)).toBe(true);
  });
});
