// Puts a cluster's leader first in its endpoint list, so that both systems' single-client
// workloads (which use the first endpoint) talk to the same role. Left to chance, one system's
// one client could write through its leader while the other's wrote through a follower (an
// extra forwarding hop per request), and the 1-client rows of a 3-member comparison would say
// more about the election than about either store. etcd's own published figures likewise keep
// "write to leader" apart from "write to all members". The leader is looked up once, before the
// first workload; compare prints it, and a re-election during the run is not followed. The
// path through a follower is not among the 1-client rows: measure it with --endpoints naming a
// follower.
import { H2GrpcConnection } from '../client/h2-grpc';
import { scanFields } from '../client/wire';

const STATUS_PATH = '/etcdserverpb.Maintenance/Status';
const LEADER_DEADLINE_MS = 20_000;
const LEADER_RETRY_MS = 100;
const STATUS_TIMEOUT_MS = 2_000;

/** The two fields of a StatusResponse that say whether the answering member leads. */
export interface LeaderView {
  memberId: bigint;
  leader: bigint;
}

/** Reads header.member_id (1.2) and leader (4) from a StatusResponse. */
export function parseLeaderView(response: Uint8Array): LeaderView {
  const view: LeaderView = { memberId: 0n, leader: 0n };
  scanFields(response, (field, value) => {
    if (field === 4 && typeof value === 'bigint') view.leader = value;
    if (field === 1 && value instanceof Uint8Array) {
      scanFields(value, (headerField, headerValue) => {
        if (headerField === 2 && typeof headerValue === 'bigint') view.memberId = headerValue;
      });
    }
  });
  return view;
}

/** The endpoints with the one whose member leads moved to the front; the rest keep their order. */
export function leaderFirstOrder(endpoints: readonly string[], views: readonly (LeaderView | undefined)[]): string[] | undefined {
  const at = views.findIndex((v) => v !== undefined && v.leader !== 0n && v.memberId === v.leader);
  if (at < 0) return undefined;
  return [endpoints[at]!, ...endpoints.filter((_, i) => i !== at)];
}

async function statusOf(endpoint: string): Promise<LeaderView | undefined> {
  const connection = new H2GrpcConnection(`http://${endpoint}`);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${endpoint}: no status within ${STATUS_TIMEOUT_MS} ms`)), STATUS_TIMEOUT_MS);
  });
  try {
    return parseLeaderView(await Promise.race([connection.unary(STATUS_PATH, new Uint8Array(0)), deadline]));
  } catch {
    return undefined; // not answering yet: asked again on the next pass
  } finally {
    clearTimeout(timer);
    await connection.close();
  }
}

/** Asks every member for its status until one says it leads; throws after the deadline. */
export async function leaderFirst(endpoints: readonly string[]): Promise<string[]> {
  if (endpoints.length === 1) return [...endpoints];
  const deadline = Date.now() + LEADER_DEADLINE_MS;
  for (;;) {
    const ordered = leaderFirstOrder(endpoints, await Promise.all(endpoints.map(statusOf)));
    if (ordered !== undefined) return ordered;
    if (Date.now() > deadline) throw new Error(`no leader among ${endpoints.join(', ')} after ${LEADER_DEADLINE_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, LEADER_RETRY_MS));
  }
}
