// The apply chain: each request taken from a committed entry passes through small appliers,
// outermost first (capped → backend). An applier either answers (often with an error) or hands
// the request to the next one. Errors here are deterministic results, identical on every member.
import { etcdserverpb } from '@keel/proto';
import { etcdError } from '../api/errors';
import { LEASE_TTL_MAX_SECONDS, type Lessor } from '../lease/lessor';
import type { AlarmSet } from './alarms';
import { alarmDbKey } from './alarms';
import type { StoreBatch } from './store-port';
import type { ApplyOutcome, RequestBody } from '../server/proposer';
import { MvccError, encodeId } from '@keel/mvcc';
import { GrpcError } from '../rpc/status';
import { type Membership, clusterVersionKey } from '../cluster/membership';
import { persistMember } from '../cluster/conf-change';

/** A compaction's answer plus the handle for etcd's `physical` wait. */
export interface CompactionOutcome extends etcdserverpb.CompactionResponse {
  physical: Promise<void>;
}

export interface ApplyContext {
  batch: StoreBatch;
  index: number;
  term: number;
}

export interface RequestApplier {
  apply(request: RequestBody, ctx: ApplyContext): Promise<ApplyOutcome>;
}

const ok = (response: unknown): ApplyOutcome => ({ ok: true, response });
const fail = (error: Error): ApplyOutcome => ({ ok: false, error });

/** Whether the request may grow the database (refused while NOSPACE is raised). */
export function mayGrowDatabase(request: RequestBody): boolean {
  switch (request.$case) {
    case 'put':
    case 'leaseGrant':
      return true;
    case 'txn':
      return txnHasPut(request.value);
    default:
      return false;
  }
}

function txnHasPut(txn: etcdserverpb.TxnRequest): boolean {
  return [...txn.success, ...txn.failure].some(
    (op) =>
      op.request?.$case === 'requestPut' || (op.request?.$case === 'requestTxn' && txnHasPut(op.request.value)),
  );
}

/** While a NOSPACE alarm is active, only requests that cannot grow the database get through. */
export function cappedApplier(next: RequestApplier, alarms: AlarmSet): RequestApplier {
  return {
    apply(request, ctx) {
      if (alarms.has(etcdserverpb.AlarmType.NOSPACE) && mayGrowDatabase(request)) {
        return Promise.resolve(fail(etcdError('NoSpace')));
      }
      return next.apply(request, ctx);
    },
  };
}

export interface BackendApplierDeps {
  lessor: Lessor;
  alarms: AlarmSet;
  currentRevision(): number;
  membership: Membership;
  /** Called after an alarm changes (to publish, refresh metrics…). */
  onAlarmChanged?(): void;
}

function emptyHeader(revision: number): etcdserverpb.ResponseHeader {
  return { clusterId: 0n, memberId: 0n, revision: BigInt(revision), raftTerm: 0n };
}

export function encodeLeaseRecord(ttlSeconds: number, remainingTtlSeconds: number): Buffer {
  const out = Buffer.alloc(16);
  out.writeBigInt64BE(BigInt(ttlSeconds), 0);
  out.writeBigInt64BE(BigInt(remainingTtlSeconds), 8);
  return out;
}

export function decodeLeaseRecord(bytes: Buffer): { ttlSeconds: number; remainingTtlSeconds: number } {
  return { ttlSeconds: Number(bytes.readBigInt64BE(0)), remainingTtlSeconds: Number(bytes.readBigInt64BE(8)) };
}

/** The last applier: performs the request against the store, lessor and alarm set. */
export function backendApplier(deps: BackendApplierDeps): RequestApplier {
  const { lessor, alarms } = deps;
  const missingLease = (ids: bigint[]) => ids.some((id) => !lessor.has(id));
  return {
    async apply(request, { batch }) {
      switch (request.$case) {
        case 'range':
          return ok(await batch.range(request.value));
        case 'put':
          if (request.value.lease !== 0n && missingLease([request.value.lease])) return fail(etcdError('LeaseNotFound'));
          return ok(await batch.put(request.value));
        case 'deleteRange':
          return ok(await batch.deleteRange(request.value));
        case 'txn':
          // Leases are checked by the store on the branch the compares select only (as etcd does).
          return ok(await batch.txn(request.value));
        case 'compaction': {
          const { physical } = batch.compact(Number(request.value.revision));
          const response: CompactionOutcome = { header: emptyHeader(deps.currentRevision()), physical };
          return ok(response);
        }
        case 'leaseGrant':
          return ok(grantLease(request.value, batch));
        case 'leaseRevoke':
          return ok(await revokeLease(request.value.ID, batch));
        case 'leaseCheckpoint':
          for (const cp of request.value.checkpoints) {
            lessor.checkpoint(cp.ID, Number(cp.remainingTTL));
            const record = lessor.get(cp.ID);
            if (record) batch.rawPut('leases', encodeId(cp.ID), encodeLeaseRecord(record.ttlSeconds, record.remainingTtlSeconds));
          }
          return ok({ header: emptyHeader(deps.currentRevision()) });
        case 'alarm':
          return ok(applyAlarm(request.value, batch));
        case 'clusterVersionSet':
          deps.membership.clusterVersion = request.value.version;
          batch.rawPut('members', clusterVersionKey, Buffer.from(request.value.version));
          return ok({});
        case 'clusterMemberAttrSet': {
          const { memberId, attributes } = request.value;
          deps.membership.updateAttributes(memberId, attributes?.name ?? '', attributes?.clientUrls ?? []);
          persistMember(batch, deps.membership, memberId);
          return ok({});
        }
        default:
          return fail(new Error(`apply: unsupported request ${request.$case}`));
      }
    },
  };

  function grantLease(req: etcdserverpb.LeaseGrantRequest, batch: StoreBatch): etcdserverpb.LeaseGrantResponse | never {
    if (lessor.has(req.ID)) throw etcdError('LeaseExist');
    if (req.TTL > BigInt(LEASE_TTL_MAX_SECONDS)) throw etcdError('LeaseTTLTooLarge');
    const record = lessor.grant(req.ID, Number(req.TTL));
    batch.rawPut('leases', encodeId(req.ID), encodeLeaseRecord(record.ttlSeconds, 0));
    return { header: emptyHeader(deps.currentRevision()), ID: req.ID, TTL: BigInt(record.ttlSeconds), error: '' };
  }

  async function revokeLease(id: bigint, batch: StoreBatch): Promise<etcdserverpb.LeaseRevokeResponse> {
    const keys = lessor.revoke(id);
    if (keys === undefined) throw etcdError('LeaseNotFound');
    batch.rawDelete('leases', encodeId(id));
    let revision = deps.currentRevision();
    if (keys.length > 0) {
      // One txn so all of the lease's keys disappear in a single revision.
      const deleted = await batch.txn({
        compare: [],
        success: keys.map((hex) => ({
          request: { $case: 'requestDeleteRange', value: { key: Buffer.from(hex, 'hex'), rangeEnd: Buffer.alloc(0), prevKv: false } },
        })),
        failure: [],
      });
      // The answer carries the revision that deleted the keys (the batch is not committed yet).
      revision = Number(deleted.header?.revision ?? BigInt(revision));
    }
    return { header: emptyHeader(revision) };
  }

  function applyAlarm(req: etcdserverpb.AlarmRequest, batch: StoreBatch): etcdserverpb.AlarmResponse {
    const entry = { memberId: req.memberID, alarm: req.alarm };
    const header = emptyHeader(deps.currentRevision());
    switch (req.action) {
      case etcdserverpb.AlarmRequest_AlarmAction.GET:
        return { header, alarms: alarms.list(req.alarm).map((a) => ({ memberID: a.memberId, alarm: a.alarm })) };
      case etcdserverpb.AlarmRequest_AlarmAction.ACTIVATE:
        if (req.alarm === etcdserverpb.AlarmType.NONE) return { header, alarms: [] };
        if (alarms.activate(entry)) {
          batch.rawPut('alarms', alarmDbKey(entry), Buffer.from([1]));
          deps.onAlarmChanged?.();
        }
        return { header, alarms: [{ memberID: entry.memberId, alarm: entry.alarm }] };
      case etcdserverpb.AlarmRequest_AlarmAction.DEACTIVATE: {
        const removed = alarms.list(req.alarm).filter((a) => req.memberID === 0n || a.memberId === req.memberID);
        for (const a of removed) {
          alarms.deactivate(a);
          batch.rawDelete('alarms', alarmDbKey(a));
        }
        if (removed.length > 0) deps.onAlarmChanged?.();
        return { header, alarms: removed.map((a) => ({ memberID: a.memberId, alarm: a.alarm })) };
      }
      default:
        return { header, alarms: [] };
    }
  }
}

/** Runs an applier, turning thrown client errors into failed outcomes. */
export async function applySafely(applier: RequestApplier, request: RequestBody, ctx: ApplyContext): Promise<ApplyOutcome> {
  try {
    return await applier.apply(request, ctx);
  } catch (error) {
    // Deterministic request errors become the request's answer; anything else is a bug or a
    // storage failure and stops the member (it must not apply past an entry it failed on).
    if (error instanceof GrpcError || error instanceof MvccError) return fail(error);
    throw error;
  }
}
