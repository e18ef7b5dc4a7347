// When a peer's refusal means "this member was removed from the cluster" (it must stop), and
// when it does not (it must keep running and retrying).
import { HandshakeRefused } from './dial';
import { isRemovalVerdict } from './removal';
import { delivered, startNode, stopAllNodes, unusedPort, waitFor, type Node } from './test-nodes';
import { HelloStatus, type HelloStatusCode } from './wire';

afterEach(stopAllNodes);

const refusal = (status: HelloStatusCode, responderId = 2n, clusterId = 0xc1n) =>
  new HandshakeRefused({ status, responderId, clusterId, reason: 'test' }, 'http://127.0.0.1:1');

describe('isRemovalVerdict', () => {
  const target = { peerId: 2n, clusterId: 0xc1n };

  test('MEMBER_REMOVED from the dialled member of this cluster is a verdict', () => {
    expect(isRemovalVerdict(refusal(HelloStatus.MEMBER_REMOVED), target)).toBe(true);
    // A side that does not know the cluster ID yet cannot contradict it.
    expect(isRemovalVerdict(refusal(HelloStatus.MEMBER_REMOVED, 2n, 0n), target)).toBe(true);
    expect(isRemovalVerdict(refusal(HelloStatus.MEMBER_REMOVED), { peerId: 2n, clusterId: 0n })).toBe(true);
  });

  test('the other refusals are not', () => {
    for (const status of [HelloStatus.CLUSTER_MISMATCH, HelloStatus.WRONG_MEMBER, HelloStatus.BAD_VERSION, HelloStatus.OK]) {
      expect(isRemovalVerdict(refusal(status), target)).toBe(false);
    }
  });

  test('MEMBER_REMOVED from another member or another cluster is not', () => {
    expect(isRemovalVerdict(refusal(HelloStatus.MEMBER_REMOVED, 3n), target)).toBe(false);
    expect(isRemovalVerdict(refusal(HelloStatus.MEMBER_REMOVED, 2n, 0xbadn), target)).toBe(false);
  });

  test('ordinary dial failures are not', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(isRemovalVerdict(refused, target)).toBe(false);
    expect(isRemovalVerdict(new Error('dial http://127.0.0.1:1: no handshake within 1000 ms'), target)).toBe(false);
    expect(isRemovalVerdict(undefined, target)).toBe(false);
  });
});

/** A node that records every onRemovedFromCluster call; `removedIds` is its removed set. */
async function startWatched(selfId: bigint, removedIds = new Set<bigint>(), overrides = {}) {
  const verdicts: bigint[] = [];
  const node: Node = await startNode(selfId, 0, {
    isRemoved: (id) => removedIds.has(id),
    onRemovedFromCluster: (by) => verdicts.push(by),
    ...overrides,
  });
  return { node, verdicts, removedIds };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PeerTransport and removal', () => {
  test('a peer that removed this member refuses it, and this member hears the verdict once', async () => {
    const a = await startWatched(1n);
    const b = await startWatched(2n, new Set([1n]));
    const c = await startWatched(3n, new Set([1n]));
    a.node.transport.addPeer(2n, [b.node.url]);
    a.node.transport.addPeer(3n, [c.node.url]);
    a.node.transport.send(2n, Buffer.from('vote for me'));
    await waitFor(() => a.verdicts.length > 0);
    // Both peers keep refusing the redials; the member is told once.
    await waitFor(() => a.node.unreachable.filter((u) => u.reason === 'refused').length >= 4);
    expect(a.verdicts).toHaveLength(1);
    expect([2n, 3n]).toContain(a.verdicts[0]);
    expect(delivered(b.node)).toEqual([]);
    expect(b.node.logs.some((l) => l.includes('member 1 has been removed from the cluster'))).toBe(true);
  });

  test('a peer that does not know this member yet (a joining member) accepts it: no verdict', async () => {
    const joining = await startWatched(4n);
    const lagging = await startWatched(2n, new Set([9n])); // has removed someone else, never heard of 4
    joining.node.transport.addPeer(2n, [lagging.node.url]);
    joining.node.transport.send(2n, Buffer.from('hello from 4'));
    await waitFor(() => delivered(lagging.node).includes('hello from 4'));
    await sleep(200);
    expect(joining.verdicts).toEqual([]);
    expect(joining.node.unreachable).toEqual([]);
  });

  test('dial failures and the other refusals never count as a removal', async () => {
    const a = await startWatched(1n);
    const otherCluster = await startWatched(2n, new Set([1n]), { clusterId: 0xbadn });
    const wrongMember = await startWatched(3n, new Set([1n]));
    a.node.transport.addPeer(2n, [otherCluster.node.url]); // cluster mismatch is checked first
    a.node.transport.addPeer(5n, [wrongMember.node.url]); // member 3 answers where 5 was expected
    a.node.transport.addPeer(6n, [`http://127.0.0.1:${await unusedPort()}`]); // nothing listens
    await waitFor(() =>
      [2n, 5n, 6n].every((peer) => a.node.unreachable.filter((u) => u.peer === peer).length >= 3),
    );
    expect(a.node.unreachable.some((u) => u.peer === 6n && u.reason === 'connect-failed')).toBe(true);
    expect(a.verdicts).toEqual([]);
  });

  test('once removed, an open stream is closed and dropped, and the redial brings the verdict', async () => {
    const a = await startWatched(1n);
    const b = await startWatched(2n);
    a.node.transport.addPeer(2n, [b.node.url]);
    a.node.transport.send(2n, Buffer.from('before'));
    await waitFor(() => delivered(b.node).includes('before'));

    // b applies the removal of 1: membership first, then the transport's peer set.
    b.removedIds.add(1n);
    b.node.transport.removePeer(1n);
    await waitFor(() => a.verdicts.length === 1);
    expect(a.verdicts).toEqual([2n]);
    a.node.transport.send(2n, Buffer.from('after'));
    await sleep(200);
    expect(delivered(b.node)).toEqual(['before']);
  });

  test('messages on a stream from a member found removed are dropped even before removePeer', async () => {
    const a = await startWatched(1n);
    const b = await startWatched(2n);
    a.node.transport.addPeer(2n, [b.node.url]);
    a.node.transport.send(2n, Buffer.from('m1'));
    await waitFor(() => delivered(b.node).includes('m1'));
    b.removedIds.add(1n);
    a.node.transport.send(2n, Buffer.from('m2'));
    await waitFor(() => b.node.logs.some((l) => l.includes('dropped messages from a removed member')));
    await waitFor(() => a.verdicts.length === 1);
    expect(delivered(b.node)).toEqual(['m1']);
  });

  test('a refused snapshot from a removed member rejects and brings the verdict', async () => {
    const a = await startWatched(1n);
    const b = await startWatched(2n);
    a.node.transport.addPeer(2n, [b.node.url]);
    await waitFor(() => a.node.transport.activeSince(2n) !== undefined);
    // Removed while its message stream stays quietly open: only the snapshot dial is refused.
    b.removedIds.add(1n);
    await expect(a.node.transport.sendSnapshot(2n, Buffer.from('m'), Buffer.from('body'))).rejects.toThrow(
      'has been removed from the cluster',
    );
    expect(a.verdicts).toEqual([2n]);
    expect(a.node.transport.activeSince(2n)).toBeDefined();
    expect(b.node.snapshots).toEqual([]);
  });
});
