// --experimental-enable-lease-checkpoint: the leader periodically replicates each lease's
// remaining TTL, so a new leader restarts the clocks from what was left rather than from the
// full TTL (which would extend leases by up to a TTL on every leader change).
import type { Logger } from 'pino';
import type { Lessor } from './lessor';
import type { Proposer } from '../server/proposer';

/** Checkpoints per proposal, as etcd batches them. */
const CHECKPOINTS_PER_REQUEST_MAX = 1000;

export interface LeaseCheckpointDeps {
  lessor: Lessor;
  proposer: Pick<Proposer, 'propose'>;
  isLeader(): boolean;
  intervalMs: number;
  logger: Logger;
}

export function startLeaseCheckpoints(deps: LeaseCheckpointDeps): () => void {
  let busy = false;
  const timer = setInterval(() => {
    if (busy || !deps.isLeader()) return;
    const checkpoints = [];
    for (const id of deps.lessor.ids()) {
      const record = deps.lessor.get(id);
      if (!record) continue;
      const remaining = deps.lessor.remainingSeconds(record);
      if (remaining > 0 && remaining < record.ttlSeconds) checkpoints.push({ ID: id, remainingTTL: BigInt(remaining) });
      if (checkpoints.length >= CHECKPOINTS_PER_REQUEST_MAX) break;
    }
    if (checkpoints.length === 0) return;
    busy = true;
    deps.proposer
      .propose({ $case: 'leaseCheckpoint', value: { checkpoints } })
      .catch((err: unknown) => deps.logger.debug({ err }, 'lease checkpoint failed'))
      .finally(() => (busy = false));
  }, deps.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
