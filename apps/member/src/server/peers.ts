// Wires raft to the peer transport: outgoing messages are encoded and queued per peer,
// incoming ones decoded and stepped into raft, unreachable peers reported to raft, and the
// transport's peer set kept equal to the member list (minus this member).
import type { Logger } from 'pino';
import { MessageType, type Message } from '@keel/raft';
import { PeerTransport } from '../transport';
import type { MemberMetrics } from '../observability/metrics';
import type { Membership } from '../cluster/membership';
import type { MessageSender } from './ports';
import { CommitNoticeHold } from './commit-notices';
import type { Http1Handler } from '../rpc';
import { decodeMessage, encodeMessage } from './raft-codec';

export interface PeerWiringDeps {
  selfId: bigint;
  clusterId: bigint;
  listenUrls: readonly string[];
  membership: Membership;
  logger: Logger;
  metrics: MemberMetrics;
  step(message: Message): void;
  /** HTTP/1.1 requests on the peer port (GET /members for joining members). */
  http1?: Http1Handler;
  reportUnreachable(id: bigint): void;
  reportSnapshot(id: bigint, failed: boolean): void;
  /** A peer refused this member because the cluster removed it: the member must stop. */
  onRemovedFromCluster(refusedBy: bigint): void;
  /** Leader: the database image to send with a raft snapshot message. */
  snapshotImage(): Promise<Buffer>;
  /** Receiver: stores an incoming snapshot (resolve = accepted). */
  receiveSnapshot(from: bigint, meta: Buffer, data: AsyncIterable<Buffer>): Promise<void>;
}

export interface PeerWiring {
  sender: MessageSender;
  /** Re-reads the member list and adds/removes/updates peers accordingly. */
  syncPeers(): void;
  stop(): Promise<void>;
}

export async function startPeers(deps: PeerWiringDeps): Promise<PeerWiring> {
  const { logger } = deps;
  // Commit-only appends are held briefly (./commit-notices): the next append usually says the same.
  const direct: MessageSender = {
    send(messages) {
      for (const message of messages) {
        if (message.type === MessageType.Snap) {
          sendSnapshot(message);
          continue;
        }
        transport.send(message.to, encodeMessage(message));
      }
      // Out now, as one write per peer: the leader's MsgApp then leaves before its own WAL
      // write is even submitted, and a follower's acknowledgement right after its fsync.
      transport.flushQueued();
    },
  };
  const sender = new CommitNoticeHold(direct);

  const transport = new PeerTransport({
    selfId: deps.selfId,
    clusterId: deps.clusterId,
    listenUrls: deps.listenUrls,
    logger,
    metrics: deps.metrics,
    onMessages: (from, messages) => {
      for (const bytes of messages) {
        try {
          const message = decodeMessage(bytes);
          if (message.type === MessageType.Prop) sender.noteProposalFrom(message.from);
          deps.step(message);
        } catch (err) {
          logger.warn({ err, from: from.toString(16) }, 'dropping undecodable or unacceptable raft message');
        }
      }
    },
    onSnapshot: (from, meta, data) => deps.receiveSnapshot(from, meta, data),
    // Only members this one has seen removed (applied) are refused; unknown ones are accepted.
    isRemoved: (id) => deps.membership.isRemoved(id),
    onRemovedFromCluster: (refusedBy) => deps.onRemovedFromCluster(refusedBy),
    http1: deps.http1,
  });
  await transport.start();
  transport.onUnreachable((id) => deps.reportUnreachable(id));
  const known = new Map<bigint, string>();
  const snapshotsInFlight = new Set<bigint>();

  /** Streams the database image with the snapshot message; raft hears how it ended. */
  const sendSnapshot = (message: Message) => {
    const to = message.to;
    if (snapshotsInFlight.has(to)) return;
    snapshotsInFlight.add(to);
    logger.info({ to: to.toString(16), index: message.snapshot?.metadata.index }, 'sending snapshot');
    deps
      .snapshotImage()
      .then((image) => transport.sendSnapshot(to, encodeMessage(message), image))
      .then(
        () => deps.reportSnapshot(to, false),
        (err: unknown) => {
          logger.warn({ err, to: to.toString(16) }, 'snapshot send failed');
          deps.reportSnapshot(to, true);
        },
      )
      .finally(() => snapshotsInFlight.delete(to));
  };

  const syncPeers = () => {
    const wanted = new Map<bigint, readonly string[]>();
    for (const member of deps.membership.list()) {
      if (member.id !== deps.selfId && member.peerUrls.length > 0) wanted.set(member.id, member.peerUrls);
    }
    for (const [id, urls] of wanted) {
      const key = urls.join(',');
      if (known.get(id) === key) continue;
      transport.addPeer(id, urls);
      known.set(id, key);
    }
    for (const id of [...known.keys()]) {
      if (wanted.has(id)) continue;
      transport.removePeer(id);
      known.delete(id);
    }
  };
  syncPeers();

  return {
    sender,
    syncPeers,
    stop: () => {
      sender.close();
      return transport.stop();
    },
  };
}
