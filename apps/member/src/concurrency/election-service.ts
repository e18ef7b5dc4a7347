/**
 * The v3electionpb.Election service (etcd's v3election semantics).
 *
 * A candidate owns `<name>/<lease in hex>` (value = its proposal, attached to its lease); the
 * key with the lowest create revision under `<name>/` is the leader. Campaign returns once
 * the caller leads; the LeaderKey it returns ({name, key, rev = create revision, lease}) is
 * the proof of leadership that Proclaim and Resign check with a create-revision compare, so
 * a candidate that lost its key (lease ended) can no longer act as leader.
 */
import { etcdserverpb, type v3electionpb } from '@keel/proto';
import type { CallContext, ServiceHandlers } from '../rpc/types';
import { asServiceError, withServiceErrors } from './client-errors';
import { GrpcError, GrpcStatus } from '../rpc/status';
import type { ConcurrencyBackend } from './backend';
import { OwnKeyLostError, contenderKey, firstCreatedRequest, queuePrefix, waitTurn } from './queue';
import { createRevisionIs, deleteOp, putOp, rangeOp, rangeResult, sessionLease } from './session';
import { observeLeaders } from './observe';

type ElectionService = typeof v3electionpb.ElectionService;

// etcd's texts (clientv3/concurrency and v3election); plain errors reach clients as UNKNOWN.
export const NOT_LEADER_MESSAGE = 'election: not leader';
export const NO_LEADER_MESSAGE = 'election: no leader';
export const MISSING_LEADER_KEY_MESSAGE = '"leader" field must be provided';

const notLeader = () => new GrpcError(GrpcStatus.UNKNOWN, NOT_LEADER_MESSAGE);

export interface ElectionServiceDeps {
  readonly backend: ConcurrencyBackend;
}

export function electionHandlers(deps: ElectionServiceDeps): ServiceHandlers<ElectionService> {
  const { backend } = deps;
  return {
    campaign: withServiceErrors(async (request: v3electionpb.CampaignRequest, ctx: CallContext) => {
      const lease = await sessionLease(backend, request.lease, ctx.signal);
      return campaign(backend, { name: request.name, lease, value: request.value }, ctx.signal);
    }),
    proclaim: withServiceErrors(async (request: v3electionpb.ProclaimRequest, ctx: CallContext) => {
      const leader = requireLeader(request.leader);
      const header = await proclaim(backend, leader, request.value, ctx.signal);
      return { header };
    }),
    resign: withServiceErrors(async (request: v3electionpb.ResignRequest, ctx: CallContext) => {
      const leader = requireLeader(request.leader);
      return { header: await resign(backend, leader, ctx.signal) };
    }),
    leader: withServiceErrors(async (request: v3electionpb.LeaderRequest, ctx: CallContext) => {
      const found = await backend.range(firstCreatedRequest(queuePrefix(request.name)), ctx.signal);
      const kv = found.kvs[0];
      if (kv === undefined) throw new GrpcError(GrpcStatus.UNKNOWN, NO_LEADER_MESSAGE);
      return { header: found.header, kv };
    }),
    observe: (call) => {
      call.onMessage((request) => {
        observeLeaders(backend, queuePrefix(request.name), call).then(
          () => call.end(),
          (error: unknown) => call.fail(asServiceError(error)),
        );
      });
    },
  };
}

function requireLeader(leader: v3electionpb.LeaderKey | undefined): v3electionpb.LeaderKey {
  if (leader === undefined) throw new GrpcError(GrpcStatus.UNKNOWN, MISSING_LEADER_KEY_MESSAGE);
  return leader;
}

interface Candidate {
  readonly name: Buffer;
  readonly lease: bigint;
  readonly value: Buffer;
}

async function campaign(
  backend: ConcurrencyBackend,
  candidate: Candidate,
  signal: AbortSignal,
): Promise<v3electionpb.CampaignResponse> {
  const prefix = queuePrefix(candidate.name);
  const key = contenderKey(prefix, candidate.lease);
  const entered = await backend.txn(
    etcdserverpb.TxnRequest.fromPartial({
      compare: [createRevisionIs(key, 0n)],
      success: [putOp(key, candidate.value, candidate.lease)],
      failure: [rangeOp(etcdserverpb.RangeRequest.fromPartial({ key }))],
    }),
    signal,
  );
  const leader: v3electionpb.LeaderKey = {
    name: candidate.name,
    key,
    rev: entered.header?.revision ?? 0n,
    lease: candidate.lease,
  };
  if (!entered.succeeded) {
    // Re-campaigning with the same lease keeps the old place in line, with the new value.
    const existing = rangeResult(entered, 0).kvs[0];
    if (existing === undefined) throw new Error('campaign txn: key existed but its range came back empty');
    leader.rev = existing.createRevision;
    if (!existing.value.equals(candidate.value)) {
      try {
        await proclaim(backend, leader, candidate.value, signal);
      } catch (error) {
        await resign(backend, leader, new AbortController().signal).catch(() => undefined);
        throw error;
      }
    }
  }

  try {
    await waitTurn(backend, { prefix, ownKey: key, ownCreateRevision: leader.rev, signal });
  } catch (error) {
    // A candidate that gave up withdraws; one whose key vanished has nothing to withdraw.
    if (signal.aborted) await resign(backend, leader, new AbortController().signal).catch(() => undefined);
    if (error instanceof OwnKeyLostError) throw notLeader();
    throw error;
  }
  return { header: entered.header, leader };
}

async function proclaim(
  backend: ConcurrencyBackend,
  leader: v3electionpb.LeaderKey,
  value: Buffer,
  signal: AbortSignal,
): Promise<etcdserverpb.ResponseHeader | undefined> {
  const response = await backend.txn(
    etcdserverpb.TxnRequest.fromPartial({
      compare: [createRevisionIs(leader.key, leader.rev)],
      success: [putOp(leader.key, value, leader.lease)],
    }),
    signal,
  );
  if (!response.succeeded) throw notLeader();
  return response.header;
}

/** Deletes the leader key if it is still the one `leader` names; not being leader is no error. */
async function resign(
  backend: ConcurrencyBackend,
  leader: v3electionpb.LeaderKey,
  signal: AbortSignal,
): Promise<etcdserverpb.ResponseHeader | undefined> {
  const response = await backend.txn(
    etcdserverpb.TxnRequest.fromPartial({
      compare: [createRevisionIs(leader.key, leader.rev)],
      success: [deleteOp(leader.key)],
    }),
    signal,
  );
  return response.header;
}
