// Lease renewals and time-to-live queries need the leader's lessor (only the leader runs lease
// clocks). A follower forwards them to the leader's client URL over gRPC, as etcd forwards them
// over its peer HTTP API. One client per leader, replaced when the leader changes.
import { Metadata, credentials, type ServiceError } from '@grpc/grpc-js';
import { etcdserverpb } from '@keel/proto';
import { GrpcError, type GrpcStatusCode } from '../rpc/status';
import { etcdError } from '../api/errors';

export interface LeaderForwarderDeps {
  /** Client URLs of the current leader, or undefined when there is none (or it is us). */
  leaderClientUrls(): { leaderId: bigint; urls: readonly string[] } | undefined;
  timeoutMs: number;
}

export interface LeaderForwarder {
  renew(id: bigint): Promise<number>;
  timeToLive(request: etcdserverpb.LeaseTimeToLiveRequest): Promise<etcdserverpb.LeaseTimeToLiveResponse>;
  close(): void;
}

function toGrpcError(error: ServiceError): GrpcError {
  return new GrpcError(error.code as GrpcStatusCode, error.details || error.message);
}

export function createLeaderForwarder(deps: LeaderForwarderDeps): LeaderForwarder {
  let cached: { leaderId: bigint; client: etcdserverpb.LeaseClient } | undefined;

  const client = (): etcdserverpb.LeaseClient => {
    const leader = deps.leaderClientUrls();
    if (!leader || leader.urls.length === 0) throw etcdError('NoLeader');
    if (cached?.leaderId === leader.leaderId) return cached.client;
    cached?.client.close();
    const address = new URL(leader.urls[0]!).host;
    cached = { leaderId: leader.leaderId, client: new etcdserverpb.LeaseClient(address, credentials.createInsecure()) };
    return cached.client;
  };
  const deadline = () => new Date(Date.now() + deps.timeoutMs);

  return {
    renew(id) {
      return new Promise<number>((resolve, reject) => {
        const stream = client().leaseKeepAlive({ deadline: deadline() });
        let settled = false;
        stream.on('data', (response: etcdserverpb.LeaseKeepAliveResponse) => {
          settled = true;
          resolve(Number(response.TTL));
          stream.end();
        });
        stream.on('error', (error: ServiceError) => {
          if (!settled) reject(toGrpcError(error));
          settled = true;
        });
        stream.on('end', () => {
          if (!settled) reject(etcdError('LeaderChanged'));
          settled = true;
        });
        stream.write({ ID: id });
      });
    },
    timeToLive(request) {
      return new Promise((resolve, reject) => {
        client().leaseTimeToLive(request, new Metadata(), { deadline: deadline() }, (error, response) => {
          if (error) reject(toGrpcError(error));
          else resolve(response);
        });
      });
    },
    close() {
      cached?.client.close();
      cached = undefined;
    },
  };
}
