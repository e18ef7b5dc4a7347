// The forwarder against a real gRPC Lease server on a loopback port: it waits out a gap with
// no leader, asks again when the leader answers "unavailable", and returns lease-not-found and
// the final "no leader" / "request timed out" as etcd does.
import { Server, ServerCredentials, status, type ServerDuplexStream, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { etcdserverpb } from '@keel/proto';
import { createLeaderForwarder, type LeaderForwarder } from './leader-forward';

type Reply = { code: number; details: string } | { ttl: number };

let server: Server;
let url: string;
/** What the fake leader answers next; a list is consumed front to back, the last one repeats. */
let replies: Reply[] = [];
let requestsSeen = 0;

function nextReply(): Reply {
  requestsSeen++;
  return replies.length > 1 ? replies.shift()! : replies[0]!;
}

beforeAll(async () => {
  server = new Server();
  server.addService(etcdserverpb.LeaseService, {
    leaseKeepAlive(stream: ServerDuplexStream<etcdserverpb.LeaseKeepAliveRequest, etcdserverpb.LeaseKeepAliveResponse>) {
      stream.on('data', (request: etcdserverpb.LeaseKeepAliveRequest) => {
        const reply = nextReply();
        if ('ttl' in reply) stream.write({ header: undefined, ID: request.ID, TTL: BigInt(reply.ttl) });
        else stream.emit('error', { code: reply.code, details: reply.details });
      });
    },
    leaseTimeToLive(call: ServerUnaryCall<etcdserverpb.LeaseTimeToLiveRequest, etcdserverpb.LeaseTimeToLiveResponse>, callback: sendUnaryData<etcdserverpb.LeaseTimeToLiveResponse>) {
      const reply = nextReply();
      if ('ttl' in reply) callback(null, { header: undefined, ID: call.request.ID, TTL: BigInt(reply.ttl), grantedTTL: 60n, keys: [] });
      else callback({ code: reply.code, details: reply.details });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  url = `http://127.0.0.1:${port}`;
});

afterAll(() => server.forceShutdown());

let forwarders: LeaderForwarder[] = [];
afterEach(() => {
  for (const f of forwarders) f.close();
  forwarders = [];
  requestsSeen = 0;
});

function forwarder(leaderKnownAfterMs: number, timeoutMs = 2_000, leadsHereAfterMs = Infinity): LeaderForwarder {
  const knownFrom = Date.now() + leaderKnownAfterMs;
  const leadsHereFrom = Date.now() + leadsHereAfterMs;
  const f = createLeaderForwarder({
    leaderClientUrls: () => (Date.now() >= knownFrom ? { leaderId: 7n, urls: [url] } : undefined),
    isLeader: () => Date.now() >= leadsHereFrom,
    timeoutMs,
    retryPauseMs: 10,
  });
  forwarders.push(f);
  return f;
}

/** What the member itself would answer; must not be used while another member leads. */
const notHere = () => Promise.reject(new Error('answered locally while another member leads'));

it('waits for a leader to appear instead of failing at once', async () => {
  replies = [{ ttl: 60 }];
  await expect(forwarder(150).renew(1n, notHere)).resolves.toBe(60);
  expect(requestsSeen).toBe(1);
});

it('asks again while the leader answers unavailable, then returns its answer', async () => {
  replies = [
    { code: status.UNAVAILABLE, details: 'etcdserver: leader changed' },
    { code: status.UNAVAILABLE, details: 'etcdserver: no leader' },
    { ttl: 30 },
  ];
  await expect(forwarder(0).renew(2n, notHere)).resolves.toBe(30);
  expect(requestsSeen).toBe(3);
  replies = [{ code: status.UNAVAILABLE, details: 'etcdserver: no leader' }, { ttl: 45 }];
  const ttl = await forwarder(0).timeToLive({ ID: 2n, keys: false }, notHere);
  expect(ttl.TTL).toBe(45n);
});

it('returns lease-not-found from the leader without asking again', async () => {
  replies = [{ code: status.NOT_FOUND, details: 'etcdserver: requested lease not found' }];
  await expect(forwarder(0).renew(3n, notHere)).rejects.toMatchObject({ code: status.NOT_FOUND, message: 'etcdserver: requested lease not found' });
  expect(requestsSeen).toBe(1);
});

it('ends with "no leader" when none appears and "request timed out" when the leader never answers', async () => {
  await expect(forwarder(60_000, 200).renew(4n, notHere)).rejects.toMatchObject({ code: status.UNAVAILABLE, message: 'etcdserver: no leader' });
  expect(requestsSeen).toBe(0);
  replies = [{ code: status.UNAVAILABLE, details: 'etcdserver: leader changed' }];
  await expect(forwarder(0, 200).renew(4n, notHere)).rejects.toMatchObject({ code: status.UNAVAILABLE, message: 'etcdserver: request timed out' });
  expect(requestsSeen).toBeGreaterThan(1);
});

it('answers here when this member becomes the leader while the forward waits', async () => {
  // No other leader is ever known, so only the local answer can resolve this (else: "no leader").
  await expect(forwarder(60_000, 2_000, 100).renew(5n, () => Promise.resolve(42))).resolves.toBe(42);
});
