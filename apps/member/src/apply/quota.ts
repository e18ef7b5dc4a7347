// Backend quota (--quota-backend-bytes): a write that would push the database past the quota
// is refused with NOSPACE and raises the NOSPACE alarm cluster-wide (through raft); while the
// alarm is active the apply chain refuses every write that could grow the database.
import type { Logger } from 'pino';
import { etcdserverpb } from '@keel/proto';
import type { AlarmSet } from './alarms';
import type { Proposer } from '../server/proposer';
import { etcdError } from '../api/errors';

export interface QuotaDeps {
  quotaBytes: number;
  dbSize(): number;
  alarms: AlarmSet;
  memberId: bigint;
  proposer: Pick<Proposer, 'propose'>;
  logger: Logger;
  /** How often the on-disk size is re-measured. */
  refreshMs?: number;
}

/** etcd's estimate of per-key overhead in the backend beyond key and value bytes. */
const PER_WRITE_OVERHEAD_BYTES = 256;

export interface QuotaGuard {
  /** Throws NoSpace (and raises the alarm) when a write of `bytes` would exceed the quota. */
  check(bytes: number): void;
  stop(): void;
}

export function startQuotaGuard(deps: QuotaDeps): QuotaGuard {
  let size = deps.dbSize();
  let raising = false;
  const timer = setInterval(() => {
    try {
      size = deps.dbSize();
    } catch {
      // the directory may be mid-compaction; keep the last figure
    }
  }, deps.refreshMs ?? 1000);
  timer.unref();

  const raise = () => {
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
    check(bytes) {
      if (size + bytes + PER_WRITE_OVERHEAD_BYTES <= deps.quotaBytes) return;
      raise();
      throw etcdError('NoSpace');
    },
    stop: () => clearInterval(timer),
  };
}
