// Composition root of one member: opens storage, restores state, starts the raft loop and the
// client-facing servers, and wires them together. Logic lives in the modules it connects.
import path from 'node:path';
import { RawNode, StateType, type Snapshot } from '@keel/raft';
import { WatchHub } from '@keel/mvcc';
import type { Logger } from 'pino';
import type { MemberConfig } from '../config/types';
import type { MemberMetrics } from '../observability/metrics';
import { grpcOutcomeRecorder } from '../observability/metrics';
import { GrpcServer, GRPC_OVERHEAD_BYTES, clientCertificateCheck, flushQueuedResponses, listenShared, serverTlsOptions, type SharedListener } from '../rpc';
import { createJsonGateway } from '../jsongw';
import { registerServices, type ServiceHandlerSet } from './services';
import { createHttpHandler, listenMetricsUrls } from '../http';
import { memberId as deriveMemberId } from '../ids';
import { backendApplier, cappedApplier } from '../apply/appliers';
import { createEntryApplier } from '../apply/entry-applier';
import { loadMembership, servedClusterVersion } from '../cluster/membership';
import { createConfChangeHandler } from '../cluster/conf-change';
import { peerMembersHandler } from '../cluster/peer-members';
import { headerFactory } from '../api/header';
import { etcdError } from '../api/errors';
import { kvHandlers } from '../api/kv-service';
import { leaseHandlers } from '../api/lease-service';
import { clusterHandlers } from '../api/cluster-service';
import { maintenanceHandlers } from '../api/maintenance-service';
import { snapshotFileFactory } from '../snapshot/snapshot-files';
import { watchHandlers } from '../api/watch-service';
import { AppliedNotifier } from './applied';
import { Proposer, type ApplyOutcome } from './proposer';
import { RaftLoop } from './raft-loop';
import { LinearizableReads } from './read-index';
import { createRequestIdGenerator } from './request-id';
import { createWaitRegistry } from './wait';
import { walDurableLog } from './wal-log';
import { openRaftLog } from './raft-log-open';
import { Snapshotter, retentionFor } from './snapshots';
import { finishPendingInstall, receiveSnapshot } from './snapshot-install';
import { startLeaseExpiry } from '../lease/expiry';
import { createLeaderForwarder } from '../lease/leader-forward';
import { startLeaseCheckpoints } from '../lease/checkpoint';
import { startQuotaGuard } from '../apply/quota';
import { startPeers } from './peers';
import { startAutoCompaction } from './auto-compaction';
import { DEFAULT_IDLE_GC_INTERVAL_MS, idleGcPauseBudgetMs, startIdleGc } from './idle-gc';
import { openLocalState } from './local-state';
import { isSoleVoter } from './voters';
import { RemovalNotice } from './removal-notice';
import { publishAttributes } from '../cluster/publish';

export interface MemberHandle {
  readonly memberId: bigint;
  readonly clusterId: bigint;
  /** Resolves when the member must be closed and started again (to install a snapshot). */
  readonly restartRequested: Promise<void>;
  /**
   * Resolves once this member knows it was removed from the cluster: shortly after it applied
   * its own removal, or as soon as a peer refused it as removed (a member cut off before the
   * removal reached it learns it that way). Like etcd, the process should then stop (it may
   * never rejoin under the same ID).
   */
  readonly removed: Promise<void>;
  close(): Promise<void>;
}

/** Bound on requests waiting for their entry to apply. */
const PENDING_REQUESTS_MAX = 100_000;
const READERS_MAX = 100_000;
/** etcd's default lease checkpoint interval. */
const LEASE_CHECKPOINT_INTERVAL_MS = 5 * 60 * 1000;
/** etcd's default quota when --quota-backend-bytes is 0. */
const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;

export async function startMember(config: MemberConfig, logger: Logger, metrics: MemberMetrics): Promise<MemberHandle> {
  const memberDir = path.join(config.dataDir, 'member');
  const walDir = config.walDir || path.join(memberDir, 'wal');
  const dbDir = path.join(memberDir, 'snap', 'db');
  const snapDir = path.join(memberDir, 'snap');
  const requestTimeoutMs = 5000 + 2 * config.electionTimeoutMs;
  const installed = await finishPendingInstall(snapDir, dbDir, walDir);
  if (installed) logger.info({ index: installed.index, term: installed.term }, 'installed snapshot from the leader');
  let requestRestart: () => void = () => undefined;
  const restartRequested = new Promise<void>((resolve) => (requestRestart = resolve));
  const removal = new RemovalNotice(logger);

  const { lessor, store, state, backendView, alarms } = await openLocalState(dbDir, {
    maxTxnOps: config.maxTxnOps,
    backendBatchIntervalMs: config.backendBatchIntervalMs,
    backendBatchLimit: config.backendBatchLimit,
    minLeaseTtlSeconds: Math.ceil((1.5 * config.electionTimeoutMs) / 1000),
  });

  const raftLog = await openRaftLog(config, walDir, snapDir, (s) => metrics.walFsyncDuration.observe(s));
  const { wal, storage, memberId, clusterId } = raftLog;
  metrics.serverId.labels(memberId.toString(16)).set(1);
  const membership = loadMembership(clusterId, await state.rawScan('members'));
  // A joining member knows the others only from what they told it, until the log arrives.
  for (const member of raftLog.joinedMembers ?? []) membership.add(member);

  const node = new RawNode({
    id: memberId,
    electionTick: config.electionTicks,
    heartbeatTick: 1,
    storage,
    applied: raftLog.snapshotIndex,
    checkQuorum: true,
    preVote: config.preVote,
    maxSizePerMsg: 1024 * 1024,
    maxInflightMsgs: 256,
  });
  if (raftLog.bootstrapPeers) node.bootstrap(raftLog.bootstrapPeers);

  let leaderId = 0n;
  let term = storage.initialState().hardState.term;
  let isLeader = false;
  const ids = createRequestIdGenerator(memberId, Date.now());
  const waits = createWaitRegistry<ApplyOutcome>(PENDING_REQUESTS_MAX);
  const applied = new AppliedNotifier(raftLog.snapshotIndex);
  const header = headerFactory({
    clusterId: () => clusterId,
    memberId: () => memberId,
    raftTerm: () => term,
    currentRevision: () => store.currentRevision(),
  });

  // Late-bound: the loop needs the applier, the applier's conf-change handler needs the node.
  // eslint-disable-next-line prefer-const
  let loop: RaftLoop;
  const reads = new LinearizableReads({
    requestReadIndex: (ctx) => {
      node.readIndex(ctx);
      loop.kick();
    },
    appliedIndex: () => loop.applied,
    nextRequestId: () => ids.next(),
    retryIntervalMs: Math.max(100, config.electionTimeoutMs / 2),
    timeoutMs: requestTimeoutMs,
    timeoutError: () => etcdError('Timeout'),
    readersMax: READERS_MAX,
    tooManyError: () => etcdError('TooManyRequests'),
  });

  const chain = cappedApplier(
    backendApplier({ lessor, alarms, membership, currentRevision: () => store.currentRevision() }),
    alarms,
  );
  const applier = createEntryApplier({
    state,
    chain,
    waits,
    confChanges: createConfChangeHandler({
      membership,
      selfId: memberId,
      applyToRaft: (change) => node.applyConfChange(change),
      onSelfRemoved: () => removal.appliedOwnRemoval(),
      onMembershipChanged: () => peers.syncPeers(),
    }),
    installSnapshot: (snapshot: Snapshot) => {
      throw new Error(`snapshot install (index ${snapshot.metadata.index}) is not supported yet`);
    },
  });



  const snapshotter = new Snapshotter({
    snapDir,
    storage,
    wal,
    confState: () => node.status().config,
    snapshotCount: config.snapshotCount,
    ...retentionFor(config.snapshotCount),
    slowestFollowerMatch: () => {
      const progress = node.status().progress;
      if (!progress) return undefined;
      let slowest: number | undefined;
      for (const [id, p] of progress) if (id !== memberId) slowest = Math.min(slowest ?? p.match, p.match);
      return slowest;
    },
    snapshotsMax: Math.max(1, config.maxSnapshots),
    logger,
    lastSnapshotIndex: raftLog.snapshotIndex,
    syncStore: () => store.syncToDisk(),
  });

  const hub = new WatchHub(store, {
    responseBytesMax: config.maxRequestBytes,
    onError: (err) => logger.error({ err }, 'watch history read failed'),
  });

  const peers = await startPeers({
    selfId: memberId,
    clusterId,
    listenUrls: config.listenPeerUrls,
    membership,
    logger,
    metrics,
    step: (message) => loop.step(message),
    http1: peerMembersHandler(membership),
    reportUnreachable: (id) => node.reportUnreachable(id),
    onRemovedFromCluster: (refusedBy) => removal.refusedBy(refusedBy),
    reportSnapshot: (id, failed) => {
      node.reportSnapshot(id, failed);
      loop.kick();
    },
    snapshotImage: async () => (await backendView.snapshotImage()).image,
    receiveSnapshot: async (from, meta, data) => {
      const message = await receiveSnapshot(snapDir, meta, data);
      logger.info(
        { from: from.toString(16), index: message.snapshot?.metadata.index },
        'received snapshot; restarting to install it',
      );
      // Answer the sender first, then restart (the restart closes the peer transport).
      setImmediate(() => requestRestart());
    },
  });

  loop = new RaftLoop(
    {
      node,
      durableLog: walDurableLog(wal),
      logMirror: storage,
      sender: peers.sender,
      applier,
      tickIntervalMs: config.heartbeatIntervalMs,
      events: {
        onSoftState: (soft) => {
          const wasLeader = isLeader;
          if (soft.lead !== leaderId) metrics.leaderChangesSeen.inc();
          leaderId = soft.lead;
          isLeader = soft.raftState === StateType.Leader;
          metrics.hasLeader.set(leaderId === 0n ? 0 : 1);
          metrics.isLeader.set(isLeader ? 1 : 0);
          if (isLeader && !wasLeader) lessor.promote(config.electionTimeoutMs);
          if (isLeader && !wasLeader && membership.clusterVersion === undefined) proposeClusterVersion();
          if (!isLeader && wasLeader) lessor.demote();
          logger.info({ leader: leaderId.toString(16), term }, 'raft state changed');
        },
        onHardState: (hs) => {
          term = hs.term;
          metrics.proposalsCommitted.set(hs.commit);
        },
        onReadStates: (states) => reads.onReadStates(states),
        onApplied: (index) => {
          applied.advance(index);
          reads.onApplied(index);
          metrics.proposalsApplied.set(index);
          metrics.proposalsPending.set(waits.size);
          snapshotter.maybeSnapshot(index);
        },
        onAnswersQueued: flushQueuedResponses,
        onFatal: (err) => {
          logger.fatal({ err }, 'raft loop failed; exiting');
          process.exit(1);
        },
      },
    },
    raftLog.snapshotIndex,
  );

  const proposer = new Proposer({
    propose: (data) => {
      node.propose(data);
      loop.kick();
    },
    hasLeader: () => leaderId !== 0n,
    nextRequestId: () => ids.next(),
    waits,
    requestBytesMax: config.maxRequestBytes,
    timeoutMs: requestTimeoutMs,
  });
  const waitApplied = () => applied.wait(storage.initialState().hardState.commit);

  const grpc = new GrpcServer({
    maxReceiveMessageBytes: config.maxRequestBytes + GRPC_OVERHEAD_BYTES,
    maxConcurrentStreams: config.maxConcurrentStreams,
    keepaliveIntervalMs: config.grpcKeepAliveIntervalMs,
    keepaliveTimeoutMs: config.grpcKeepAliveTimeoutMs,
    logger,
    onCallEnd: grpcOutcomeRecorder(metrics),
  });
  // As etcd: a negative quota disables the check (the gauge shows the configured value).
  const quotaDisabled = config.quotaBackendBytes < 0;
  const quotaBytes = quotaDisabled ? Infinity : config.quotaBackendBytes > 0 ? config.quotaBackendBytes : DEFAULT_QUOTA_BYTES;
  metrics.quotaBackendBytes.set(quotaDisabled ? config.quotaBackendBytes : quotaBytes);
  const quota = startQuotaGuard({
    quotaBytes,
    dbSize: () => {
      const size = store.dbSizeBytes();
      metrics.dbTotalSizeBytes.set(size);
      metrics.dbTotalSizeInUseBytes.set(store.dbSizeInUse());
      metrics.currentRevision.set(store.currentRevision());
      metrics.compactRevision.set(store.compactRevision());
      return size;
    },
    alarms,
    memberId,
    proposer,
    logger,
  });
  const forwarder = createLeaderForwarder({
    leaderClientUrls: () => {
      const leader = leaderId === 0n || leaderId === memberId ? undefined : membership.get(leaderId);
      return leader ? { leaderId, urls: leader.clientUrls } : undefined;
    },
    isLeader: () => isLeader,
    timeoutMs: requestTimeoutMs,
  });
  const handlers: ServiceHandlerSet = {
    kv: kvHandlers({
      proposer,
      waitReadable: () => reads.waitReadable(),
      readRange: (request) => state.range(request),
      header,
      txnOpsMax: config.maxTxnOps,
      quota,
    }),
    watch: watchHandlers({ hub, header }),
    lease: leaseHandlers({ proposer, lessor, header, isLeader: () => isLeader, waitApplied, forwarder, quota }),
    cluster: clusterHandlers({
      membership,
      header,
      proposeConfChange: (change) => {
        node.proposeConfChange(change);
        loop.kick();
      },
      nextRequestId: () => ids.next(),
      waits,
      raftStatus: () => node.status(),
      newMemberId: (peerUrls) =>
        deriveMemberId({
          peerUrls,
          clusterToken: config.initialClusterToken,
          addedAtUnixSeconds: Math.floor(Date.now() / 1000),
        }),
      timeoutMs: requestTimeoutMs,
    }),
    maintenance: maintenanceHandlers({
      proposer,
      header,
      alarms,
      backend: backendView,
      raft: {
        memberId: () => memberId,
        leaderId: () => leaderId,
        committedIndex: () => storage.initialState().hardState.commit,
        appliedIndex: () => loop.applied,
        term: () => term,
        isLearner: () => membership.get(memberId)?.isLearner ?? false,
      },
      snapshotFile: snapshotFileFactory(snapDir, store, { removedMemberIds: () => membership.snapshot().removed.map(BigInt) }),
      moveLeader: async (target) => {
        if (!membership.get(target) || target === memberId) throw etcdError('BadLeaderTransferee');
        node.transferLeader(target);
        loop.kick();
        const deadline = Date.now() + requestTimeoutMs;
        while (leaderId !== target) {
          if (Date.now() > deadline) throw etcdError('Timeout');
          await new Promise((r) => setTimeout(r, config.heartbeatIntervalMs));
        }
      },
    }),
  };
  const gatewayServices = registerServices(grpc, handlers);
  const gateway = createJsonGateway(gatewayServices, {
    requestBytesMax: config.maxRequestBytes + GRPC_OVERHEAD_BYTES,
    logger,
  });

  const health = {
    hasLeader: () => leaderId !== 0n,
    activeAlarms: () => alarms.list().map((a) => (a.alarm === 1 ? 'NOSPACE' : 'CORRUPT')),
    quorumRead: () => reads.waitReadable(),
    serializableRead: async () => undefined,
    clusterVersion: () => '3.4.0',
  };
  const http1 = createHttpHandler({
    health,
    metrics,
    logger,
    fallback: (req, res) => {
      if (!gateway(req, res)) res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
    },
  });
  const listeners: SharedListener[] = [];
  for (const url of config.listenClientUrls) {
    const tls = url.startsWith('https:') ? serverTlsOptions(config.clientTls) : undefined;
    const verifyClient = tls ? clientCertificateCheck(config.clientTls) : undefined;
    listeners.push(await listenShared({ url, grpc, http1, logger, tls, verifyClient }));
  }
  listeners.push(...(await listenMetricsUrls(config.listenMetricsUrls, { health, metrics, logger })));

  loop.start();
  // A one-voter cluster need not wait out an election timeout.
  if (isSoleVoter(node.status().config.voters, memberId)) {
    node.campaign();
    loop.kick();
  }
  const stopPublishing = publishAttributes(proposer, memberId, config, logger);
  /**
   * As etcd's leader does, sets the cluster version once (the 4th entry of a new cluster):
   * etcdctl's raft index figures then match etcd's. A failure is retried by the next leader.
   */
  function proposeClusterVersion(): void {
    proposer
      .propose({ $case: 'clusterVersionSet', value: { version: servedClusterVersion } })
      .then(() => logger.info({ version: servedClusterVersion }, 'set the cluster version'))
      .catch((err: unknown) => logger.debug({ err }, 'setting the cluster version failed'));
  }
  const stopExpiry = startLeaseExpiry({ lessor, proposer, isLeader: () => isLeader, logger });
  const stopCheckpoints = config.experimentalEnableLeaseCheckpoint
    ? startLeaseCheckpoints({ lessor, proposer, isLeader: () => isLeader, intervalMs: LEASE_CHECKPOINT_INTERVAL_MS, logger })
    : () => undefined;
  const stopIdleGc = startIdleGc({
    appliedIndex: () => loop.applied,
    pauseBudgetMs: () => idleGcPauseBudgetMs(node.status().config.voters, memberId, config.electionTimeoutMs),
    intervalMs: DEFAULT_IDLE_GC_INTERVAL_MS,
    onCollected: ({ beforeBytes, afterBytes, pauseMs }) =>
      logger.debug({ beforeBytes, afterBytes, pauseMs: Math.round(pauseMs) }, 'idle full collection'),
  });
  const stopCompactor = startAutoCompaction({
    mode: config.autoCompactionMode,
    retention: config.autoCompactionRetentionValue,
    isLeader: () => isLeader,
    currentRevision: () => store.currentRevision(),
    compactRevision: () => store.compactRevision(),
    proposer,
    logger,
  });

  logger.info(
    { memberId: memberId.toString(16), clusterId: clusterId.toString(16), clientUrls: config.listenClientUrls },
    'member started',
  );

  return {
    memberId,
    clusterId,
    restartRequested,
    removed: removal.removed,
    async close() {
      stopPublishing();
      stopExpiry();
      stopCompactor();
      stopIdleGc();
      stopCheckpoints();
      quota.stop();
      await loop.stop();
      reads.close(etcdError('Stopped'));
      waits.failAll(etcdError('Stopped'));
      await grpc.close(500);
      await Promise.all(listeners.map((l) => l.close()));

      hub.close();
      forwarder.close();
      await peers.stop();
      await wal.close();
      await store.close();
    },
  };
}
