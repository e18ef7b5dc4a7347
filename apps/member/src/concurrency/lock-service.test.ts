import type { v3lockpb } from '@keel/proto';
import { GrpcStatus } from '../rpc/status';
import { localContext } from './local-call';
import { SESSION_EXPIRED_MESSAGE, lockHandlers } from './lock-service';
import { FakeBackend } from './test-support/fake-backend';
import { settle, track } from './test-support/settle';

function setup() {
  const backend = new FakeBackend();
  const handlers = lockHandlers({ backend });
  const lock = (name: string, lease: bigint, signal?: AbortSignal) =>
    Promise.resolve(
      handlers.lock!({ name: Buffer.from(name), lease }, localContext({ path: '/v3lockpb.Lock/Lock', signal })),
    ) as Promise<v3lockpb.LockResponse>;
  const unlock = (key: Buffer) =>
    Promise.resolve(handlers.unlock!({ key }, localContext({ path: '/v3lockpb.Lock/Unlock' })));
  return { backend, lock, unlock };
}

describe('Lock service', () => {
  test('an uncontended lock is granted at once under <name>/<lease hex>', async () => {
    const { backend, lock } = setup();
    const lease = backend.grant(0x694d7a1b2c3dn);
    const response = await lock('mylock', lease);
    expect(response.key.toString()).toBe('mylock/694d7a1b2c3d');
    const kv = backend.get('mylock/694d7a1b2c3d');
    expect(kv?.lease).toBe(lease);
    expect(response.header?.revision).toBe(kv?.createRevision);
  });

  test('waiters are served in arrival (create revision) order, one per release', async () => {
    const { backend, lock, unlock } = setup();
    const [a, b, c] = [backend.grant(), backend.grant(), backend.grant()];
    const first = await lock('q', a);
    // Arrive in order c, b so that FIFO differs from lease-ID order.
    const third = track(lock('q', c));
    await settle();
    const second = track(lock('q', b));
    await settle();
    expect(third.done || second.done).toBe(false);

    await unlock(first.key);
    await settle();
    expect(third.done).toBe(true);
    expect(second.done).toBe(false);
    const holder = await third.promise;
    expect(holder.key.toString()).toBe(`q/${c.toString(16)}`);
    // The grant is stamped after the predecessor's deletion.
    expect(holder.header!.revision > backend.get(`q/${c.toString(16)}`)!.createRevision).toBe(true);

    await unlock(holder.key);
    expect((await second.promise).key.toString()).toBe(`q/${b.toString(16)}`);
  });

  test('a waiter watches its predecessor instead of polling', async () => {
    const { backend, lock } = setup();
    const [a, b] = [backend.grant(), backend.grant()];
    await lock('w', a);
    const waiting = track(lock('w', b));
    await settle();
    const rangesWhileWaiting = backend.rangeCalls;
    backend.put('unrelated', 'x');
    backend.put('unrelated', 'y');
    await settle();
    expect(waiting.done).toBe(false);
    expect(backend.rangeCalls).toBe(rangesWhileWaiting);
    // One watch on the predecessor, one on our own key (to notice our lease ending).
    expect(backend.openWatches).toBe(2);
    backend.revoke(a);
    await waiting.promise;
    await settle();
    expect(backend.openWatches).toBe(0);
  });

  test("the holder's lease ending releases the lock to the next waiter", async () => {
    const { backend, lock } = setup();
    const [a, b] = [backend.grant(), backend.grant()];
    await lock('l', a);
    const next = track(lock('l', b));
    await settle();
    expect(next.done).toBe(false);
    backend.revoke(a);
    expect((await next.promise).key.toString()).toBe(`l/${b.toString(16)}`);
  });

  test("a waiter whose own lease ends fails with etcd's session-expired error", async () => {
    const { backend, lock } = setup();
    const [a, b] = [backend.grant(), backend.grant()];
    await lock('s', a);
    const doomed = lock('s', b);
    await settle();
    backend.revoke(b);
    await expect(doomed).rejects.toMatchObject({ code: GrpcStatus.UNKNOWN, message: SESSION_EXPIRED_MESSAGE });
    expect(backend.get('s/' + a.toString(16))).toBeDefined();
  });

  test('a waiter that cancels leaves the line so the one behind it is not blocked', async () => {
    const { backend, lock, unlock } = setup();
    const [a, b, c] = [backend.grant(), backend.grant(), backend.grant()];
    const held = await lock('c', a);
    const abort = new AbortController();
    const quitter = lock('c', b, abort.signal);
    await settle();
    const patient = track(lock('c', c));
    await settle();
    abort.abort();
    await expect(quitter).rejects.toMatchObject({ code: GrpcStatus.CANCELLED });
    await settle();
    expect(backend.get('c/' + b.toString(16))).toBeUndefined();
    expect(patient.done).toBe(false);
    await unlock(held.key);
    expect((await patient.promise).key.toString()).toBe(`c/${c.toString(16)}`);
  });

  test("an unknown lease is refused with etcd's lease-not-found text, as UNKNOWN like etcd", async () => {
    const { lock } = setup();
    await expect(lock('x', 0xdeadn)).rejects.toMatchObject({
      code: GrpcStatus.UNKNOWN,
      message: 'etcdserver: requested lease not found',
    });
  });

  test('lease 0 gets a fresh session lease, as etcd does', async () => {
    const { backend, lock } = setup();
    const response = await lock('z', 0n);
    const lease = BigInt('0x' + response.key.toString().split('/')[1]);
    expect(lease).not.toBe(0n);
    expect(backend.get(response.key.toString())?.lease).toBe(lease);
  });

  test('locking again with the same lease keeps the key and its place', async () => {
    const { backend, lock } = setup();
    const a = backend.grant();
    const first = await lock('r', a);
    const again = await lock('r', a);
    expect(again.key).toEqual(first.key);
    expect(backend.get(first.key.toString())?.version).toBe(1n);
  });

  test('unlock deletes the key and reports the deletion revision', async () => {
    const { backend, lock, unlock } = setup();
    const held = await lock('u', backend.grant());
    const response = await unlock(held.key);
    expect(backend.get(held.key.toString())).toBeUndefined();
    expect(response.header?.revision).toBe(backend.revision);
  });
});
