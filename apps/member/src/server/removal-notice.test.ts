// The member's removal decision: when it resolves `removed` (the process then stops), from its
// own applied removal or from a peer's refusal through the real peer wiring, and when it must not.
import pino from 'pino';
import { MessageType, type Message } from '@keel/raft';
import { Membership, type MemberInfo } from '../cluster/membership';
import { createMetrics } from '../observability/metrics';
import { unusedPort, waitFor } from '../transport/test-nodes';
import { startPeers, type PeerWiring } from './peers';
import { RemovalNotice } from './removal-notice';

function recordingLogger(lines: string[]) {
  return pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
}

/** Whether `promise` has settled after pending timers and microtasks ran. */
async function settled(promise: Promise<void>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RemovalNotice', () => {
  test('applying its own removal stops the member after the delay; a refusal stops it at once', async () => {
    const lines: string[] = [];
    const applied = new RemovalNotice(recordingLogger(lines), 150);
    applied.appliedOwnRemoval();
    expect(await settled(applied.removed)).toBe(false);
    await sleep(200);
    expect(await settled(applied.removed)).toBe(true);

    const refused = new RemovalNotice(recordingLogger(lines), 60_000);
    refused.refusedBy(0xabn);
    expect(await settled(refused.removed)).toBe(true);
    expect(lines.some((l) => l.includes('"peer":"ab"') && l.includes('permanently removed from the cluster'))).toBe(true);
  });

  test('a refusal cuts a pending delayed stop short, and the removal is logged once', async () => {
    const lines: string[] = [];
    const notice = new RemovalNotice(recordingLogger(lines), 60_000);
    notice.appliedOwnRemoval();
    notice.refusedBy(2n);
    notice.refusedBy(3n);
    expect(await settled(notice.removed)).toBe(true);
    expect(lines.filter((l) => l.includes('the member has been permanently removed from the cluster'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('the data-dir used by this member must be removed'))).toHaveLength(1);
  });
});

const member = (id: bigint, port: number): MemberInfo => ({
  id,
  name: `m${id}`,
  peerUrls: [`http://127.0.0.1:${port}`],
  clientUrls: [],
  isLearner: false,
});

const heartbeatResponse = (from: bigint, to: bigint): Message => ({
  type: MessageType.HeartbeatResp,
  from,
  to,
  term: 3,
  logTerm: 0,
  index: 0,
  entries: [],
  commit: 0,
  reject: false,
  rejectHint: 0,
});

describe('peer wiring and removal', () => {
  const wirings: PeerWiring[] = [];
  afterEach(async () => {
    await Promise.all(wirings.splice(0).map((w) => w.stop()));
  });

  /** One member's peer wiring over real sockets; `membership` is its view of the cluster. */
  async function startMemberPeers(self: MemberInfo, membership: Membership) {
    const lines: string[] = [];
    const logger = recordingLogger(lines);
    const removal = new RemovalNotice(logger, 60_000);
    const stepped: Message[] = [];
    const wiring = await startPeers({
      selfId: self.id,
      clusterId: 0xc1n,
      listenUrls: self.peerUrls,
      membership,
      logger,
      metrics: createMetrics({ processMetrics: false }),
      step: (message) => stepped.push(message),
      reportUnreachable: () => undefined,
      reportSnapshot: () => undefined,
      onRemovedFromCluster: (by) => removal.refusedBy(by),
      snapshotImage: async () => Buffer.alloc(0),
      receiveSnapshot: async () => undefined,
    });
    wirings.push(wiring);
    return { wiring, removal, stepped, lines, membership };
  }

  async function twoMembers() {
    const [a, b] = [member(1n, await unusedPort()), member(2n, await unusedPort())];
    const viewOf = (...members: MemberInfo[]) => {
      const membership = new Membership(0xc1n);
      for (const m of members) membership.add(m);
      return membership;
    };
    return { a, b, viewOf };
  }

  test('a member the peer has removed (cut off before it applied that) stops on the refusal', async () => {
    const { a, b, viewOf } = await twoMembers();
    const peerView = viewOf(a, b);
    peerView.remove(a.id); // b applied the removal of a; a never did
    const peer = await startMemberPeers(b, peerView);
    const removed = await startMemberPeers(a, viewOf(a, b));
    removed.wiring.sender.send([heartbeatResponse(a.id, b.id)]);
    await waitFor(() => removed.lines.some((l) => l.includes('permanently removed from the cluster')));
    expect(await settled(removed.removal.removed)).toBe(true);
    expect(peer.stepped).toEqual([]);
  });

  test('a joining member the peer does not know yet is accepted and keeps running', async () => {
    const { a, b, viewOf } = await twoMembers();
    const peer = await startMemberPeers(b, viewOf(b)); // the add of a has not reached b
    const joining = await startMemberPeers(a, viewOf(a, b));
    joining.wiring.sender.send([heartbeatResponse(a.id, b.id)]);
    await waitFor(() => peer.stepped.length === 1);
    expect(peer.stepped[0]).toMatchObject({ from: a.id, to: b.id, type: MessageType.HeartbeatResp });
    await sleep(200);
    expect(await settled(joining.removal.removed)).toBe(false);
  });

  test('a peer that is down does not stop the member', async () => {
    const { a, b, viewOf } = await twoMembers(); // nothing listens on b's port
    const lonely = await startMemberPeers(a, viewOf(a, b));
    lonely.wiring.sender.send([heartbeatResponse(a.id, b.id)]);
    await waitFor(() => lonely.lines.some((l) => l.includes('cannot reach peer')));
    await sleep(300);
    expect(await settled(lonely.removal.removed)).toBe(false);
  });

  test('removal applied while connected: the peer drops the stream, the member redials and stops', async () => {
    const { a, b, viewOf } = await twoMembers();
    const peer = await startMemberPeers(b, viewOf(a, b));
    const removed = await startMemberPeers(a, viewOf(a, b));
    removed.wiring.sender.send([heartbeatResponse(a.id, b.id)]);
    await waitFor(() => peer.stepped.length === 1);

    // What b's conf-change apply does: update the member list, then the transport's peers.
    peer.membership.remove(a.id);
    peer.wiring.syncPeers();
    await waitFor(() => removed.lines.some((l) => l.includes('permanently removed from the cluster')));
    expect(await settled(removed.removal.removed)).toBe(true);
    removed.wiring.sender.send([heartbeatResponse(a.id, b.id)]);
    await sleep(100);
    expect(peer.stepped).toHaveLength(1);
  });
});
