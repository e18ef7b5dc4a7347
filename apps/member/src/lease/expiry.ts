// The leader's lease clock: every tick it looks for expired leases and proposes their revokes
// (bounded per tick, as etcd rate-limits revokes), so expiry is replicated like any write.
import type { Logger } from 'pino';
import type { Lessor } from './lessor';
import type { Proposer } from '../server/proposer';

export interface LeaseExpiryDeps {
  lessor: Lessor;
  proposer: Pick<Proposer, 'propose'>;
  isLeader(): boolean;
  logger: Logger;
  intervalMs?: number;
  revokesPerTickMax?: number;
}

export function startLeaseExpiry(deps: LeaseExpiryDeps): () => void {
  const inFlight = new Set<bigint>();
  const timer = setInterval(() => {
    if (!deps.isLeader()) return;
    for (const id of deps.lessor.expired(deps.revokesPerTickMax ?? 500)) {
      if (inFlight.has(id)) continue;
      inFlight.add(id);
      deps.proposer
        .propose({ $case: 'leaseRevoke', value: { ID: id } })
        .catch((err: unknown) => deps.logger.debug({ err, lease: id.toString(16) }, 'lease revoke failed; will retry'))
        .finally(() => inFlight.delete(id));
    }
  }, deps.intervalMs ?? 250);
  return () => clearInterval(timer);
}
