/**
 * When does a failed dial prove that this member was removed from the cluster?
 *
 * A peer answers MEMBER_REMOVED only for a dialer that is in its set of removed members, and
 * that set only ever grows from committed conf changes (a removed ID is never re-added). So
 * the answer is final, and the member must stop (etcd: a 410 Gone on the stream, 403 on a
 * message or snapshot post, becomes errMemberRemoved and stops the server).
 *
 * Everything else is NOT a verdict and must never stop the member:
 *   - connection refused, reset, timed out, TLS failures (the peer may be down or partitioned);
 *   - the other refusals: cluster ID mismatch, wrong member at that URL, protocol version;
 *   - a peer that does not know this member yet (a joining member whose addition has not
 *     reached that peer): it accepts the connection instead of refusing it.
 * A MEMBER_REMOVED answer is also ignored when it comes from a member other than the one
 * dialled, or from a member that reports a different cluster: neither speaks for this cluster.
 */
import { HandshakeRefused } from './dial';
import { HelloStatus } from './wire';

export interface DialTarget {
  /** The member this side meant to reach. */
  readonly peerId: bigint;
  /** This member's cluster ID (0n while not known). */
  readonly clusterId: bigint;
}

export function isRemovalVerdict(err: unknown, target: DialTarget): err is HandshakeRefused {
  if (!(err instanceof HandshakeRefused)) return false;
  const { ack } = err;
  if (ack.status !== HelloStatus.MEMBER_REMOVED) return false;
  if (ack.responderId !== target.peerId) return false;
  const bothKnown = ack.clusterId !== 0n && target.clusterId !== 0n;
  return !(bothKnown && ack.clusterId !== target.clusterId);
}
