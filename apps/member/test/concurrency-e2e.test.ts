// Locks and elections end to end, with real clients, against every target: real etcd (the
// referee, so each expectation below is proven), Keel's Election/Lock services in front of
// etcd's KV ("bridge"), and bin/member once its composition root registers the services.
import * as grpc from '@grpc/grpc-js';
import { Etcd3, EtcdLockFailedError } from 'etcd3';
import { etcdserverpb, v3electionpb, v3lockpb } from '@keel/proto';
// Test-only use of the workspace test harness (a tool project).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { runCommand, startProcess, type ManagedProcess } from '@keel/harness';
import { keelWires, startBridge, startEtcd, startKeel, type Target } from '../src/concurrency/test-support/targets';

jest.setTimeout(60_000);

const keelWired = keelWires('lockHandlers(') && keelWires('electionHandlers(');
const serviceTargets: Array<[string, () => Promise<Target>, boolean]> = [
  ['etcd', startEtcd, true],
  ['bridge', startBridge, true],
  ['keel', startKeel, keelWired],
];
const clientTargets = serviceTargets.filter(([name]) => name !== 'bridge');

/**
 * Tests bin/member fails for reasons outside these services (reported to their owners), run
 * as `test.failing` so they turn red — asking for the entry's removal — once fixed.
 */
const KNOWN_KEEL_FAILURES: Record<string, string> = {};

function testFor(target: string, enabled: boolean): (title: string, fn: () => Promise<void>) => void {
  return (title, fn) => {
    if (!enabled) test.skip(title, fn);
    else if (target === 'keel' && title in KNOWN_KEEL_FAILURES) test.failing(title, fn);
    else test(title, fn);
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function tracked<T>(promise: Promise<T>): { done: boolean; promise: Promise<T> } {
  const state = { done: false, promise };
  promise.then(
    () => (state.done = true),
    () => (state.done = true),
  );
  return state;
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(50);
  }
}

interface Method<Req, Res> {
  path: string;
  requestSerialize: (value: Req) => Buffer;
  responseDeserialize: (bytes: Buffer) => Res;
}

function unary<Req, Res>(client: grpc.Client, method: Method<Req, Res>, request: Req): Promise<Res> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request, (error, response) =>
      error ? reject(error) : resolve(response!),
    ),
  );
}

function clients(endpoint: string) {
  const client = new grpc.Client(endpoint, grpc.credentials.createInsecure());
  const { LockService } = v3lockpb;
  const { ElectionService } = v3electionpb;
  const { LeaseService } = etcdserverpb;
  return {
    grant: async (TTL = 30n) => (await unary(client, LeaseService.leaseGrant, { ID: 0n, TTL })).ID,
    revoke: (ID: bigint) => unary(client, LeaseService.leaseRevoke, { ID }),
    lock: (name: string, lease: bigint) => unary(client, LockService.lock, { name: Buffer.from(name), lease }),
    unlock: (key: Buffer) => unary(client, LockService.unlock, { key }),
    campaign: (name: string, lease: bigint, value: string) =>
      unary(client, ElectionService.campaign, { name: Buffer.from(name), lease, value: Buffer.from(value) }),
    leader: (name: string) => unary(client, ElectionService.leader, { name: Buffer.from(name) }),
    proclaim: (leader: v3electionpb.LeaderKey | undefined, value: string) =>
      unary(client, ElectionService.proclaim, { leader, value: Buffer.from(value) }),
    resign: (leader: v3electionpb.LeaderKey | undefined) => unary(client, ElectionService.resign, { leader }),
    observe: (name: string) =>
      client.makeServerStreamRequest(
        ElectionService.observe.path,
        ElectionService.observe.requestSerialize,
        ElectionService.observe.responseDeserialize,
        { name: Buffer.from(name) },
      ),
    close: () => client.close(),
  };
}

describe.each(serviceTargets)('Lock and Election services on %s', (name, start, enabled) => {
  const maybe = testFor(name, enabled);
  let target: Target;
  let api: ReturnType<typeof clients>;

  beforeAll(async () => {
    if (!enabled) return;
    target = await start();
    api = clients(target.endpoint);
  });
  afterAll(async () => {
    if (!enabled) return;
    api.close();
    await target.close();
  });

  maybe('Lock serves waiters in arrival order; Unlock and lease revoke release', async () => {
    const [l1, l2, l3] = [await api.grant(), await api.grant(), await api.grant()];
    const first = await api.lock('fifo', l1);
    expect(first.key.toString()).toBe(`fifo/${l1.toString(16)}`);
    const second = tracked(api.lock('fifo', l2));
    await sleep(200);
    const third = tracked(api.lock('fifo', l3));
    await sleep(300);
    expect([second.done, third.done]).toEqual([false, false]);

    const unlocked = await api.unlock(first.key);
    expect(unlocked.header?.revision).toBeGreaterThan(first.header!.revision);
    const granted = await second.promise;
    expect(granted.key.toString()).toBe(`fifo/${l2.toString(16)}`);
    await sleep(300);
    expect(third.done).toBe(false);

    await api.revoke(l2);
    expect((await third.promise).key.toString()).toBe(`fifo/${l3.toString(16)}`);
  });

  maybe('Lock with an unknown lease fails with the lease-not-found text, as UNKNOWN', async () => {
    await expect(api.lock('nolease', 0x1234567n)).rejects.toMatchObject({
      code: grpc.status.UNKNOWN,
      details: 'etcdserver: requested lease not found',
    });
  });

  maybe('Campaign, Leader, Proclaim, Observe and Resign', async () => {
    await expect(api.leader('el')).rejects.toMatchObject({ code: grpc.status.UNKNOWN, details: 'election: no leader' });
    const [l1, l2] = [await api.grant(), await api.grant()];
    const won = await api.campaign('el', l1, 'p1');
    expect(won.leader).toMatchObject({ name: Buffer.from('el'), key: Buffer.from(`el/${l1.toString(16)}`), lease: l1 });
    expect((await api.leader('el')).kv?.value.toString()).toBe('p1');

    const observed: string[] = [];
    const stream = api.observe('el');
    stream.on('data', (response: v3electionpb.LeaderResponse) => observed.push(response.kv!.value.toString()));
    stream.on('error', () => undefined);
    await until(() => observed.length === 1);

    const challenger = tracked(api.campaign('el', l2, 'p2'));
    await sleep(300);
    expect(challenger.done).toBe(false);
    await api.proclaim(won.leader, 'p1b');
    await until(() => observed.length === 2);

    await api.resign(won.leader);
    const next = await challenger.promise;
    expect(next.leader?.key.toString()).toBe(`el/${l2.toString(16)}`);
    await until(() => observed.length === 3);
    expect(observed).toEqual(['p1', 'p1b', 'p2']);

    await expect(api.proclaim(won.leader, 'stale')).rejects.toMatchObject({ code: grpc.status.UNKNOWN, details: 'election: not leader' });
    stream.cancel();
  });

  maybe('a candidate whose lease is revoked stops being leader', async () => {
    const lease = await api.grant();
    const won = await api.campaign('rev', lease, 'v');
    await api.revoke(lease);
    await expect(api.leader('rev')).rejects.toMatchObject({ details: 'election: no leader' });
    await expect(api.proclaim(won.leader, 'again')).rejects.toMatchObject({ details: 'election: not leader' });
  });
});

function etcdctl(endpoint: string, args: string[]) {
  return ['--endpoints=' + endpoint, '--dial-timeout=5s', ...args];
}

function lockHolder(endpoint: string, tag: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `echo ${tag}-start $(date +%s%N); sleep 1; echo ${tag}-end $(date +%s%N)`;
  return runCommand('etcdctl', etcdctl(endpoint, ['lock', 'mylock', '--', 'sh', '-c', script]), {
    env: { ...process.env, ETCDCTL_API: '3' },
    timeoutMs: 30_000,
  });
}

function stamp(output: string, label: string): bigint {
  const match = new RegExp(`${label} (\\d+)`).exec(output);
  if (match === null) throw new Error(`no "${label}" in ${output}`);
  return BigInt(match[1]!);
}

describe.each(clientTargets)('etcdctl and the etcd3 client on %s', (name, start, enabled) => {
  const maybe = testFor(name, enabled);
  let target: Target;
  const running: ManagedProcess[] = [];

  beforeAll(async () => {
    if (enabled) target = await start();
  });
  afterAll(async () => {
    await Promise.all(running.map((p) => p.kill('SIGKILL')));
    if (enabled) await target.close();
  });

  maybe('etcdctl lock: the second holder starts only after the first exits', async () => {
    const first = lockHolder(target.endpoint, 'A');
    await sleep(300);
    const second = lockHolder(target.endpoint, 'B');
    const [a, b] = await Promise.all([first, second]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(stamp(b.stdout, 'B-start') >= stamp(a.stdout, 'A-end')).toBe(true);
  });

  maybe('etcdctl elect: the listener sees each leader in turn', async () => {
    const env = { ...process.env, ETCDCTL_API: '3' };
    const p1 = startProcess('etcdctl', etcdctl(target.endpoint, ['elect', 'myelection', 'p1']), { env });
    running.push(p1);
    await until(() => p1.output().includes('p1'));
    expect(p1.output()).toMatch(/^myelection\/[0-9a-f]+\np1\n/);
    const listener = startProcess('etcdctl', etcdctl(target.endpoint, ['elect', '-l', 'myelection']), { env });
    running.push(listener);
    await until(() => listener.output().includes('p1'));
    const p2 = startProcess('etcdctl', etcdctl(target.endpoint, ['elect', 'myelection', 'p2']), { env });
    running.push(p2);
    await sleep(500);
    expect(p2.output()).toBe('');
    await p1.kill('SIGINT');
    await until(() => p2.output().includes('p2') && listener.output().includes('p2'));
    expect(listener.output()).toMatch(/^myelection\/[0-9a-f]+\np1\nmyelection\/[0-9a-f]+\np2\n/);
  });

  maybe('etcd3 client: lock().do() excludes others; election campaigns in turn', async () => {
    const client = new Etcd3({ hosts: `http://${target.endpoint}` });
    try {
      const inside = await client.lock('x').ttl(10).do(async () => {
        await expect(client.lock('x').ttl(10).acquire()).rejects.toBeInstanceOf(EtcdLockFailedError);
        return 'ran';
      });
      expect(inside).toBe('ran');
      const again = await client.lock('x').ttl(10).acquire();
      await again.release();

      const first = client.election('e', 10).campaign('v1');
      await first.wait();
      expect(await client.election('e').leader()).toBe('v1');
      const second = client.election('e', 10).campaign('v2');
      let elected = false;
      second.on('elected', () => (elected = true));
      await sleep(300);
      expect(elected).toBe(false);
      await first.resign();
      await second.wait();
      expect(await client.election('e').leader()).toBe('v2');
      await second.resign();
    } finally {
      client.close();
    }
  });
});
