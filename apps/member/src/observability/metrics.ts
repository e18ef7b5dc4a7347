/**
 * The member's Prometheus metrics under etcd's names, so existing dashboards and alerts keep
 * working. One registry per member (not prom-client's global one), so tests and several
 * members in one process do not collide.
 *
 * Label names follow etcd's (some capitalised: `To`, `From`, `Local`, `Remote`), and
 * `grpc_code` uses grpc-go's code names ("OK", "NotFound", …) as go-grpc-prometheus does.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CallOutcome } from '../rpc/types';
import { GrpcCallCounts } from './call-counts';

/** etcd's disk latency buckets: 1 ms doubling 14 times (to ~8 s). */
const DISK_BUCKETS_SECONDS = exponentialBuckets(0.001, 2, 14);
/** etcd's peer round-trip buckets: 0.1 ms doubling 16 times. */
const RTT_BUCKETS_SECONDS = exponentialBuckets(0.0001, 2, 16);

export interface MemberMetrics {
  readonly registry: Registry;

  // raft / server
  readonly hasLeader: Gauge;
  readonly isLeader: Gauge;
  readonly isLearner: Gauge;
  readonly leaderChangesSeen: Counter;
  readonly heartbeatSendFailures: Counter;
  readonly slowApply: Counter;
  readonly proposalsCommitted: Gauge;
  readonly proposalsApplied: Gauge;
  readonly proposalsPending: Gauge;
  readonly proposalsFailed: Counter;
  readonly slowReadIndexes: Counter;
  readonly readIndexesFailed: Counter;
  readonly snapshotApplyInProgress: Gauge;
  readonly quotaBackendBytes: Gauge;
  /** Label server_version; set to 1 once at startup. */
  readonly serverVersion: Gauge<'server_version'>;
  /** Label server_id (hex member ID); set to 1 once the ID is known. */
  readonly serverId: Gauge<'server_id'>;
  readonly healthSuccess: Counter;
  readonly healthFailures: Counter;

  // disk
  readonly walFsyncDuration: Histogram;
  readonly backendCommitDuration: Histogram;
  readonly backendSnapshotDuration: Histogram;
  readonly snapSaveTotalDuration: Histogram;

  // mvcc
  readonly dbTotalSizeBytes: Gauge;
  readonly dbTotalSizeInUseBytes: Gauge;
  readonly keysTotal: Gauge;
  readonly currentRevision: Gauge;
  readonly compactRevision: Gauge;
  readonly rangeTotal: Counter;
  readonly putTotal: Counter;
  readonly deleteTotal: Counter;
  readonly txnTotal: Counter;
  readonly watchersTotal: Gauge;
  readonly watchStreamsTotal: Gauge;
  readonly slowWatchers: Gauge;

  // lease
  readonly leaseGranted: Counter;
  readonly leaseRevoked: Counter;
  readonly leaseRenewed: Counter;
  readonly leaseExpired: Counter;

  // network
  readonly peerSentBytes: Counter<'To'>;
  readonly peerReceivedBytes: Counter<'From'>;
  readonly peerSentFailures: Counter<'To'>;
  readonly peerReceivedFailures: Counter<'From'>;
  readonly peerRoundTripSeconds: Histogram<'To'>;
  readonly activePeers: Gauge<'Local' | 'Remote'>;
  readonly disconnectedPeers: Counter<'Local' | 'Remote'>;
  readonly clientGrpcSentBytes: Counter;
  readonly clientGrpcReceivedBytes: Counter;

  // gRPC server (go-grpc-prometheus names)
  readonly grpcStarted: Counter<'grpc_type' | 'grpc_service' | 'grpc_method'>;
  readonly grpcHandled: Counter<'grpc_type' | 'grpc_service' | 'grpc_method' | 'grpc_code'>;
  /** Finished calls counted in plain numbers, published into the four counters above on read. */
  readonly grpcCalls: GrpcCallCounts;
}

export interface MetricsOptions {
  /** Also export Node process metrics (CPU, memory, fds, event loop lag). Default true. */
  readonly processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): MemberMetrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const gauge = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> =>
    new Gauge<L>({ name, help, labelNames, registers });
  const counter = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> =>
    new Counter<L>({ name, help, labelNames, registers });
  // Reading any of the per-call counters first publishes what was counted since the last read.
  // (grpcCalls is made below, once the counters it publishes to exist; reads come later still.)
  const publishCalls = (): void => grpcCalls.publish();
  const callCounter = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> =>
    new Counter<L>({ name, help, labelNames, registers, collect: publishCalls });
  const histogram = <L extends string = never>(
    name: string,
    help: string,
    buckets: number[],
    labelNames: readonly L[] = [],
  ): Histogram<L> => new Histogram<L>({ name, help, buckets, labelNames, registers });

  const metrics = {
    registry,
    hasLeader: gauge('etcd_server_has_leader', 'Whether a leader exists: 1 yes, 0 no.'),
    isLeader: gauge('etcd_server_is_leader', 'Whether this member is the leader: 1 yes, 0 no.'),
    isLearner: gauge('etcd_server_is_learner', 'Whether this member is a learner: 1 yes, 0 no.'),
    leaderChangesSeen: counter('etcd_server_leader_changes_seen_total', 'Leader changes this member has seen.'),
    heartbeatSendFailures: counter('etcd_server_heartbeat_send_failures_total', 'Heartbeats the leader failed to send.'),
    slowApply: counter('etcd_server_slow_apply_total', 'Applies that took longer than the warning threshold.'),
    proposalsCommitted: gauge('etcd_server_proposals_committed_total', 'Raft index of the latest committed entry.'),
    proposalsApplied: gauge('etcd_server_proposals_applied_total', 'Raft index of the latest applied entry.'),
    proposalsPending: gauge('etcd_server_proposals_pending', 'Proposals waiting to be committed.'),
    proposalsFailed: counter('etcd_server_proposals_failed_total', 'Proposals that failed (dropped, timed out, lost leader).'),
    slowReadIndexes: counter('etcd_server_slow_read_indexes_total', 'Read-index requests that were slow or timed out.'),
    readIndexesFailed: counter('etcd_server_read_indexes_failed_total', 'Read-index requests that failed.'),
    snapshotApplyInProgress: gauge('etcd_server_snapshot_apply_in_progress_total', '1 while a received snapshot is applied.'),
    quotaBackendBytes: gauge('etcd_server_quota_backend_bytes', 'Backend size quota in bytes.'),
    serverVersion: gauge('etcd_server_version', 'Running etcd-compatible version, in the server_version label.', ['server_version']),
    serverId: gauge('etcd_server_id', 'This member ID in hex, in the server_id label.', ['server_id']),
    healthSuccess: counter('etcd_server_health_success', 'Health checks that passed.'),
    healthFailures: counter('etcd_server_health_failures', 'Health checks that failed.'),

    walFsyncDuration: histogram('etcd_disk_wal_fsync_duration_seconds', 'WAL fsync latency.', DISK_BUCKETS_SECONDS),
    backendCommitDuration: histogram('etcd_disk_backend_commit_duration_seconds', 'Backend commit latency.', DISK_BUCKETS_SECONDS),
    backendSnapshotDuration: histogram('etcd_disk_backend_snapshot_duration_seconds', 'Backend snapshot latency.', DISK_BUCKETS_SECONDS),
    snapSaveTotalDuration: histogram('etcd_debugging_snap_save_total_duration_seconds', 'Raft snapshot save latency.', DISK_BUCKETS_SECONDS),

    dbTotalSizeBytes: gauge('etcd_mvcc_db_total_size_in_bytes', 'Physical size of the backend in bytes.'),
    dbTotalSizeInUseBytes: gauge('etcd_mvcc_db_total_size_in_use_in_bytes', 'Logically used backend size in bytes.'),
    keysTotal: gauge('etcd_debugging_mvcc_keys_total', 'Keys in the key index.'),
    currentRevision: gauge('etcd_debugging_mvcc_current_revision', 'Current store revision.'),
    compactRevision: gauge('etcd_debugging_mvcc_compact_revision', 'Last compaction revision.'),
    rangeTotal: counter('etcd_mvcc_range_total', 'Ranges served.'),
    putTotal: counter('etcd_mvcc_put_total', 'Puts applied.'),
    deleteTotal: counter('etcd_mvcc_delete_total', 'Deletes applied.'),
    txnTotal: counter('etcd_mvcc_txn_total', 'Transactions applied.'),
    watchersTotal: gauge('etcd_debugging_mvcc_watcher_total', 'Active watchers.'),
    watchStreamsTotal: gauge('etcd_debugging_mvcc_watch_stream_total', 'Active watch streams.'),
    slowWatchers: gauge('etcd_debugging_mvcc_slow_watcher_total', 'Watchers that are behind (unsynced).'),

    leaseGranted: counter('etcd_debugging_lease_granted_total', 'Leases granted.'),
    leaseRevoked: counter('etcd_debugging_lease_revoked_total', 'Leases revoked.'),
    leaseRenewed: counter('etcd_debugging_lease_renewed_total', 'Leases renewed by the leader.'),
    leaseExpired: counter('etcd_debugging_server_lease_expired_total', 'Leases expired.'),

    peerSentBytes: counter('etcd_network_peer_sent_bytes_total', 'Bytes sent to peers.', ['To']),
    peerReceivedBytes: counter('etcd_network_peer_received_bytes_total', 'Bytes received from peers.', ['From']),
    peerSentFailures: counter('etcd_network_peer_sent_failures_total', 'Sends to peers that failed.', ['To']),
    peerReceivedFailures: counter('etcd_network_peer_received_failures_total', 'Receives from peers that failed.', ['From']),
    peerRoundTripSeconds: histogram('etcd_network_peer_round_trip_time_seconds', 'Peer round-trip latency.', RTT_BUCKETS_SECONDS, ['To']),
    activePeers: gauge('etcd_network_active_peers', 'Peers with a live connection.', ['Local', 'Remote']),
    disconnectedPeers: counter('etcd_network_disconnected_peers_total', 'Peer disconnections.', ['Local', 'Remote']),
    clientGrpcSentBytes: callCounter('etcd_network_client_grpc_sent_bytes_total', 'Bytes sent to gRPC clients.'),
    clientGrpcReceivedBytes: callCounter('etcd_network_client_grpc_received_bytes_total', 'Bytes received from gRPC clients.'),

    grpcStarted: callCounter('grpc_server_started_total', 'RPCs started on the server.', ['grpc_type', 'grpc_service', 'grpc_method']),
    grpcHandled: callCounter('grpc_server_handled_total', 'RPCs completed on the server, by status code.', [
      'grpc_type',
      'grpc_service',
      'grpc_method',
      'grpc_code',
    ]),
  };
  const grpcCalls = new GrpcCallCounts(metrics, (code) => GRPC_CODE_NAMES[code] ?? String(code));
  return { ...metrics, grpcCalls };
}

/** grpc-go's names for status codes, as go-grpc-prometheus puts them in `grpc_code`. */
export const GRPC_CODE_NAMES: readonly string[] = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

/**
 * An `onCallEnd` for GrpcServer that counts finished calls in grpc_server_started_total,
 * grpc_server_handled_total and the client byte counters (published when /metrics is read).
 */
export function grpcOutcomeRecorder(metrics: MemberMetrics): (outcome: CallOutcome) => void {
  const calls = metrics.grpcCalls;
  return (outcome) => calls.record(outcome);
}

function exponentialBuckets(start: number, factor: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start * factor ** i);
}
