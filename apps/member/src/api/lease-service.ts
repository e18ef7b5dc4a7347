// The etcdserverpb.Lease service. Grants and revokes go through raft; keep-alives and
// time-to-live are answered by the leader's lessor, which alone runs lease clocks.
import { randomBytes } from 'node:crypto';
import type { etcdserverpb } from '@keel/proto';
import type { ServiceHandlers, StreamCall } from '../rpc/types';
import type { LeaseService } from './services';
import { stampHeader, type HeaderFn } from './header';
import { etcdError } from './errors';
import { LEASE_TTL_MAX_SECONDS, type Lessor } from '../lease/lessor';
import type { Proposer } from '../server/proposer';
import type { LeaderForwarder } from '../lease/leader-forward';
import { LEASE_GRANT_COST } from '../apply/quota';

export interface LeaseServiceDeps {
  proposer: Pick<Proposer, 'propose'>;
  lessor: Lessor;
  header: HeaderFn;
  isLeader(): boolean;
  /** Resolves once everything committed so far is applied (so a fresh grant is visible). */
  waitApplied(): Promise<void>;
  /** Sends renewals and time-to-live queries to the leader when this member is not it. */
  forwarder: Pick<LeaderForwarder, 'renew' | 'timeToLive'>;
  /** Refuses grants when the backend quota is exhausted (etcd's cost: 64 bytes). */
  quota?: { check(cost: number): void };
}

/** A random positive int64 lease ID (never 0, which means "no lease"). */
export function randomLeaseId(): bigint {
  for (;;) {
    const id = randomBytes(8).readBigUInt64BE(0) & ((1n << 63n) - 1n);
    if (id !== 0n) return id;
  }
}

export function leaseHandlers(deps: LeaseServiceDeps): ServiceHandlers<typeof LeaseService> {
  const { lessor } = deps;

  async function renewHere(id: bigint): Promise<number> {
    await deps.waitApplied();
    return lessor.renew(id) ?? 0;
  }

  function renew(id: bigint): Promise<number> {
    return deps.isLeader() ? renewHere(id) : deps.forwarder.renew(id, () => renewHere(id));
  }

  async function timeToLiveHere(request: etcdserverpb.LeaseTimeToLiveRequest): Promise<etcdserverpb.LeaseTimeToLiveResponse> {
    await deps.waitApplied();
    const record = lessor.get(request.ID);
    if (!record) return { header: deps.header(), ID: request.ID, TTL: -1n, grantedTTL: 0n, keys: [] };
    return {
      header: deps.header(),
      ID: request.ID,
      TTL: BigInt(lessor.timeToLiveSeconds(record)),
      grantedTTL: BigInt(record.ttlSeconds),
      keys: request.keys ? [...record.keys].map((hex) => Buffer.from(hex, 'hex')) : [],
    };
  }

  return {
    leaseGrant: async (request) => {
      deps.quota?.check(LEASE_GRANT_COST);
      if (request.TTL > BigInt(LEASE_TTL_MAX_SECONDS)) throw etcdError('LeaseTTLTooLarge');
      const id = request.ID === 0n ? randomLeaseId() : request.ID;
      const response = await deps.proposer.propose<etcdserverpb.LeaseGrantResponse>({
        $case: 'leaseGrant',
        value: { ID: id, TTL: request.TTL },
      });
      return stampHeader(response, deps.header);
    },
    leaseRevoke: async (request) => {
      const response = await deps.proposer.propose<etcdserverpb.LeaseRevokeResponse>({
        $case: 'leaseRevoke',
        value: request,
      });
      return stampHeader(response, deps.header);
    },
    leaseKeepAlive: (call: StreamCall<etcdserverpb.LeaseKeepAliveRequest, etcdserverpb.LeaseKeepAliveResponse>) => {
      // Answers go out in request order even though renewals are asynchronous.
      let chain = Promise.resolve();
      call.onMessage((request) => {
        const header = deps.header();
        chain = chain.then(async () => {
          if (call.ended) return;
          try {
            const ttl = await renew(request.ID);
            call.write({ header, ID: request.ID, TTL: BigInt(ttl) });
          } catch (error) {
            call.fail(error);
          }
        });
      });
      call.onEnd(() => void chain.then(() => call.end()));
    },
    leaseTimeToLive: async (request) => {
      if (deps.isLeader()) return timeToLiveHere(request);
      return stampHeader(await deps.forwarder.timeToLive(request, () => timeToLiveHere(request)), deps.header);
    },
    leaseLeases: async () => {
      await deps.waitApplied();
      return { header: deps.header(), leases: lessor.ids().map((ID) => ({ ID })) };
    },
  };
}
