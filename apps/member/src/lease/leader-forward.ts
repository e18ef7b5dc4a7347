// Lease renewals and time-to-live queries need the leader's lessor (only the leader runs lease
// clocks). A follower forwards them to the leader's client URL over gRPC, as etcd forwards them
// over its peer HTTP API. One client per leader, replaced when the leader changes.
//
// As etcd (LeaseRenew / LeaseTimeToLive in etcdserver/v3_server.go), a forward outlives a short
// election: with no leader known it waits for one, and a leader that cannot be reached or hands
// the request on with "no leader" / "leader changed" is asked again after a pause, until the
// request timeout. Only then does the client see "no leader" (none ever appeared) or "request
// timed out" (one did, but did not answer). Lease-not-found and other answers return at once.
import { Metadata, credentials, type ServiceError } from '@grpc/grpc-js';
import { setTimeout as sleep } from 'node:timers/promises';
import { etcdserverpb } from '@keel/proto';
import { GrpcError, GrpcStatus, type GrpcStatusCode } from '../rpc/status';
import { etcdError } from '../api/errors';

export interface LeaderForwarderDeps {
  /** Client URLs of the current leader, or undefined when there is none (or it is us). */
  leaderClientUrls(): { leaderId: bigint; urls: readonly string[] } | undefined;
  /** True once this member leads: a forward still waiting is then answered here. */
  isLeader(): boolean;
  timeoutMs: number;
  /** Pause between attempts while there is no leader or it did not answer (default 50 ms). */
  retryPauseMs?: number;
}

/**
 * Each call takes the member's own way of answering, used instead if this member becomes the
 * leader while the forward waits (it may win the very election the forward is waiting out).
 */
export interface LeaderForwarder {
  renew(id: bigint, answerHere: () => Promise<number>): Promise<number>;
  timeToLive(
    request: etcdserverpb.LeaseTimeToLiveRequest,
    answerHere: () => Promise<etcdserverpb.LeaseTimeToLiveResponse>,
  ): Promise<etcdserverpb.LeaseTimeToLiveResponse>;
  close(): void;
}

/** etcd pauses 50 ms between forwarding attempts ("throttle in case of connection problems"). */
const RETRY_PAUSE_MS = 50;

/**
 * Worth asking again: the leader was unreachable or is itself between leaders. A deadline
 * exceeded can only be our own (the loop then ends with "request timed out", as etcd).
 */
function isRetryable(error: unknown): boolean {
  return error instanceof GrpcError && (error.code === GrpcStatus.UNAVAILABLE || error.code === GrpcStatus.DEADLINE_EXCEEDED);
}

function toGrpcError(error: ServiceError): GrpcError {
  return new GrpcError(error.code as GrpcStatusCode, error.details || error.message);
}

export function createLeaderForwarder(deps: LeaderForwarderDeps): LeaderForwarder {
  let cached: { leaderId: bigint; client: etcdserverpb.LeaseClient } | undefined;
  const retryPauseMs = deps.retryPauseMs ?? RETRY_PAUSE_MS;

  /** The leader's client, or undefined while no other member is known to lead. */
  const leaderClient = (): etcdserverpb.LeaseClient | undefined => {
    const leader = deps.leaderClientUrls();
    if (!leader || leader.urls.length === 0) return undefined;
    if (cached?.leaderId === leader.leaderId) return cached.client;
    cached?.client.close();
    const address = new URL(leader.urls[0]!).host;
    cached = { leaderId: leader.leaderId, client: new etcdserverpb.LeaseClient(address, credentials.createInsecure()) };
    return cached.client;
  };

  /** Runs `attempt` against the current leader until it answers or the request times out. */
  const untilAnswered = async <T>(
    attempt: (client: etcdserverpb.LeaseClient, deadline: Date) => Promise<T>,
    answerHere: () => Promise<T>,
  ): Promise<T> => {
    const deadline = new Date(Date.now() + deps.timeoutMs);
    let leaderSeen = false;
    for (;;) {
      if (deps.isLeader()) return answerHere();
      const client = leaderClient();
      if (client !== undefined) {
        leaderSeen = true;
        try {
          return await attempt(client, deadline);
        } catch (error) {
          if (!isRetryable(error)) throw error;
        }
      }
      const remainingMs = deadline.getTime() - Date.now();
      if (remainingMs <= 0) throw etcdError(leaderSeen ? 'Timeout' : 'NoLeader');
      await sleep(Math.min(retryPauseMs, remainingMs));
    }
  };

  return {
    renew(id, answerHere) {
      return untilAnswered((client, deadline) => renewOnce(client, id, deadline), answerHere);
    },
    timeToLive(request, answerHere) {
      return untilAnswered(
        (client, deadline) =>
          new Promise((resolve, reject) => {
            client.leaseTimeToLive(request, new Metadata(), { deadline }, (error, response) => {
              if (error) reject(toGrpcError(error));
              else resolve(response);
            });
          }),
        answerHere,
      );
    },
    close() {
      cached?.client.close();
      cached = undefined;
    },
  };
}

/** One renewal over a keep-alive stream: the first response's TTL. */
function renewOnce(client: etcdserverpb.LeaseClient, id: bigint, deadline: Date): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const stream = client.leaseKeepAlive({ deadline });
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
}
