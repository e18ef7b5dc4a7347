/** Public types of the peer transport. */
import type tls from 'node:tls';
import type { Logger } from 'pino';
import type { MemberMetrics } from '../observability/metrics';
import type { Http1Handler } from '../rpc/listener';

export interface PeerTransportOptions {
  /** This member's raft ID. */
  readonly selfId: bigint;
  /**
   * The cluster ID both sides must share. 0n means "not known yet" (a member joining an existing
   * cluster before it has learnt the ID): the handshake then accepts any cluster. Set the real
   * value with `setClusterId` as soon as it is known.
   */
  readonly clusterId: bigint;
  /** --listen-peer-urls; http:// only. Port 0 binds a free port (see `boundPorts`). */
  readonly listenUrls: readonly string[];
  readonly logger: Logger;
  /**
   * Batches of encoded raft messages from one peer, in the order that peer sent them.
   * Called synchronously from the socket's data event; must not throw.
   */
  readonly onMessages: (from: bigint, messages: Buffer[]) => void;
  /**
   * A snapshot arriving from `from`: `meta` is the caller's encoded metadata (the raft
   * snapshot message), `data` yields the body in order. Resolve once the snapshot is safely
   * stored; the sender's `sendSnapshot` then resolves. Reject (or let `data` throw — it does
   * when the body is truncated or its checksum is wrong) and the sender's promise rejects.
   */
  readonly onSnapshot: (from: bigint, meta: Buffer, data: AsyncIterable<Buffer>) => Promise<void>;
  /**
   * Whether the cluster has removed member `id` (an applied conf change; etcd's IsIDRemoved).
   * Such a member's dials are refused with MEMBER_REMOVED and anything it still sends on an
   * open stream is dropped. Only members in this set get that refusal: a member this side
   * merely does not know (yet) is accepted. Without it, the members dropped with `removePeer`.
   */
  readonly isRemoved?: (id: bigint) => boolean;
  /**
   * A peer of this cluster refused this member because it has applied this member's removal
   * (see removal.ts for what counts). Called at most once; the member should stop.
   */
  readonly onRemovedFromCluster?: (refusedBy: bigint) => void;
  /** Optional: HTTP/1.1 requests arriving on the peer port (anything not starting with the peer magic). */
  readonly http1?: Http1Handler;
  readonly metrics?: MemberMetrics;
  readonly limits?: Partial<PeerTransportLimits>;
  /**
   * Peer TLS (--peer-* flags): `server` for https listen URLs (see rpc/tls `serverTlsOptions`;
   * --peer-client-cert-auth makes peers present a certificate), `client` for dialling https peer
   * URLs (`clientTlsOptions`).
   */
  readonly tls?: {
    readonly server?: tls.TlsOptions;
    readonly client?: tls.ConnectionOptions;
    /** --peer-cert-allowed-cn / --peer-cert-allowed-hostname (rpc/tls `clientCertificateCheck`). */
    readonly verifyClient?: (socket: tls.TLSSocket) => string | undefined;
  };
}

/** Every bound of the transport, chosen at startup. */
export interface PeerTransportLimits {
  /** Messages waiting for one peer; beyond it new messages are dropped (raft retransmits). */
  readonly queueMessagesMax: number;
  /** Bytes waiting for one peer, same policy. */
  readonly queueBytesMax: number;
  /** Largest BATCH frame written at once. */
  readonly batchBytesMax: number;
  readonly dialTimeoutMs: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  /** The dialer pings this often; RTT goes to etcd_network_peer_round_trip_time_seconds. */
  readonly pingIntervalMs: number;
  /** A connection that receives nothing for this long is considered dead and closed. */
  readonly idleTimeoutMs: number;
  /** Snapshot body chunk size on the wire. */
  readonly snapshotChunkBytes: number;
  /** Snapshot chunks buffered on the receiver before the socket is paused. */
  readonly snapshotChunksBuffered: number;
}

export const DEFAULT_LIMITS: PeerTransportLimits = {
  queueMessagesMax: 4096,
  queueBytesMax: 64 * 1024 * 1024,
  batchBytesMax: 4 * 1024 * 1024,
  dialTimeoutMs: 1000,
  backoffMinMs: 50,
  backoffMaxMs: 3000,
  pingIntervalMs: 1000,
  idleTimeoutMs: 5000,
  snapshotChunkBytes: 1024 * 1024,
  snapshotChunksBuffered: 16,
};

/** Why raft should be told a peer is unreachable. */
export type UnreachableReason = 'connect-failed' | 'disconnected' | 'queue-full' | 'refused';

export type UnreachableListener = (peerId: bigint, reason: UnreachableReason) => void;

/** Per-peer counters (also exported as metrics when `metrics` is given). */
export interface PeerStats {
  readonly queuedMessages: number;
  readonly sentMessages: number;
  readonly droppedMessages: number;
  readonly connected: boolean;
}
