// Backend quota (--quota-backend-bytes), etcd 3.4's rule (etcdserver/quota.go): a request is
// let through when it writes nothing, or when size + cost < quota, where size is the backend
// size etcd would report (the store's bbolt model: in memory, current as of the backend's last
// commit) and cost is etcd's estimate of what the request adds:
//   put        256 + len(key) + len(value)
//   txn        the larger of the put costs of its success and failure branches (direct puts)
//   lease grant 64
// A refused request raises the NOSPACE alarm cluster-wide (through raft); while the alarm is
// active the apply chain refuses every write that could grow the database.
import type { Logger } from 'pino';
import { etcdserverpb } from '@keel/proto';
import type { AlarmSet } from './alarms';
import type { Proposer } from '../server/proposer';
import { etcdError } from '../api/errors';

export interface QuotaDeps {
  quotaBytes: number;
  /** The backend size etcd would report (cheap: read on every check). */
  dbSize(): number;
  alarms: AlarmSet;
  memberId: bigint;
  proposer: Pick<Proposer, 'propose'>;
  logger: Logger;
  /** How often dbSize() is also called when idle (the caller refreshes its metrics there). */
  refreshMs?: number;
}

/** etcd's estimate of a key's metadata in the backend (kvOverhead). */
export const PUT_OVERHEAD_BYTES = 256;
/** etcd's cost of a lease grant (leaseOverhead). */
export const LEASE_GRANT_COST = 64;

export function putCost(put: etcdserverpb.PutRequest): number {
  return PUT_OVERHEAD_BYTES + put.key.length + put.value.length;
}

/** etcd's costTxn: puts directly in each branch count, nested txns do not. */
export function txnCost(txn: etcdserverpb.TxnRequest): number {
  const branchCost = (ops: readonly etcdserverpb.RequestOp[]): number =>
    ops.reduce((sum, op) => sum + (op.request?.$case === 'requestPut' ? putCost(op.request.value) : 0), 0);
  return Math.max(branchCost(txn.success), branchCost(txn.failure));
}

export interface QuotaGuard {
  /** Throws NoSpace (and raises the alarm) when a request of this cost does not fit. */
  check(cost: number): void;
  stop(): void;
}

export function startQuotaGuard(deps: QuotaDeps): QuotaGuard {
  let raising = false;
  const timer = setInterval(() => {
    try {
      deps.dbSize();
    } catch {
      // a failed store reports through its own paths
    }
  }, deps.refreshMs ?? 1000);
  timer.unref();

  const raise = (size: number) => {
    if (raising || deps.alarms.has(etcdserverpb.AlarmType.NOSPACE)) return;
    raising = true;
    deps.logger.warn({ size, quota: deps.quotaBytes }, 'database space exceeded; raising NOSPACE alarm');
    deps.proposer
      .propose({
        $case: 'alarm',
        value: {
          action: etcdserverpb.AlarmRequest_AlarmAction.ACTIVATE,
          memberID: deps.memberId,
          alarm: etcdserverpb.AlarmType.NOSPACE,
        },
      })
      .catch((err: unknown) => deps.logger.warn({ err }, 'could not raise NOSPACE alarm'))
      .finally(() => (raising = false));
  };

  return {
    check(cost) {
      if (cost === 0) return; // requests that write nothing always pass
      const size = deps.dbSize();
      if (size + cost < deps.quotaBytes) return;
      raise(size);
      throw etcdError('NoSpace');
    },
    stop: () => clearInterval(timer),
  };
}
