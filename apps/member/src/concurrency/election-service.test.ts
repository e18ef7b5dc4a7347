import type { v3electionpb } from '@keel/proto';
import { GrpcStatus } from '../rpc/status';
import { localContext, openLocalStream } from './local-call';
import { MISSING_LEADER_KEY_MESSAGE, NOT_LEADER_MESSAGE, NO_LEADER_MESSAGE, electionHandlers } from './election-service';
import { FakeBackend } from './test-support/fake-backend';
import { settle, track } from './test-support/settle';

function setup() {
  const backend = new FakeBackend();
  const handlers = electionHandlers({ backend });
  const ctx = (signal?: AbortSignal) => localContext({ path: '/v3electionpb.Election/x', signal });
  const campaign = (name: string, lease: bigint, value: string, signal?: AbortSignal) =>
    Promise.resolve(
      handlers.campaign!({ name: Buffer.from(name), lease, value: Buffer.from(value) }, ctx(signal)),
    ) as Promise<v3electionpb.CampaignResponse>;
  const leader = (name: string) => Promise.resolve(handlers.leader!({ name: Buffer.from(name) }, ctx()));
  const proclaim = (key: v3electionpb.LeaderKey | undefined, value: string) =>
    Promise.resolve(handlers.proclaim!({ leader: key, value: Buffer.from(value) }, ctx()));
  const resign = (key: v3electionpb.LeaderKey | undefined) => Promise.resolve(handlers.resign!({ leader: key }, ctx()));
  const observe = (name: string) => {
    const stream = openLocalStream(handlers.observe!, { path: '/v3electionpb.Election/Observe' });
    stream.send({ name: Buffer.from(name) });
    stream.halfClose();
    return { stream, iterator: stream.responses() };
  };
  return { backend, campaign, leader, proclaim, resign, observe };
}

async function nextValue(iterator: AsyncIterator<v3electionpb.LeaderResponse>): Promise<string> {
  const next = await iterator.next();
  if (next.done) throw new Error('observe stream ended');
  return next.value.kv!.value.toString();
}

describe('Election service', () => {
  test('an uncontended campaign wins at once and Leader reports it', async () => {
    const { backend, campaign, leader } = setup();
    const lease = backend.grant(0xabcn);
    const won = await campaign('e', lease, 'p1');
    expect(won.leader).toEqual({ name: Buffer.from('e'), key: Buffer.from('e/abc'), rev: won.header!.revision, lease });
    const current = await leader('e');
    expect(current.kv?.value.toString()).toBe('p1');
    expect(current.kv?.createRevision).toBe(won.leader!.rev);
  });

  test('Leader with no candidates fails with "election: no leader"', async () => {
    const { leader } = setup();
    await expect(leader('none')).rejects.toMatchObject({ code: GrpcStatus.UNKNOWN, message: NO_LEADER_MESSAGE });
  });

  test('a second candidate waits and wins when the leader resigns', async () => {
    const { backend, campaign, resign, leader } = setup();
    const first = await campaign('e', backend.grant(), 'p1');
    const second = track(campaign('e', backend.grant(), 'p2'));
    await settle();
    expect(second.done).toBe(false);
    expect((await leader('e')).kv?.value.toString()).toBe('p1');
    await resign(first.leader);
    const won = await second.promise;
    expect(won.leader?.key.toString()).toMatch(/^e\//);
    expect((await leader('e')).kv?.value.toString()).toBe('p2');
  });

  test('the leader can proclaim; a stale leader key gets "election: not leader"', async () => {
    const { backend, campaign, proclaim, leader } = setup();
    const lease = backend.grant();
    const won = await campaign('e', lease, 'v1');
    await proclaim(won.leader, 'v2');
    expect((await leader('e')).kv?.value.toString()).toBe('v2');

    backend.revoke(lease);
    await expect(proclaim(won.leader, 'v3')).rejects.toMatchObject({ code: GrpcStatus.UNKNOWN, message: NOT_LEADER_MESSAGE });
    // A different candidate's key that merely has the same name is not ours either.
    const stale = { ...won.leader!, rev: won.leader!.rev + 100n };
    await expect(proclaim(stale, 'v4')).rejects.toMatchObject({ message: NOT_LEADER_MESSAGE });
  });

  test('Resign of a key that is no longer ours changes nothing', async () => {
    const { backend, campaign, resign, leader } = setup();
    const lease = backend.grant();
    const won = await campaign('e', lease, 'v1');
    const stale = { ...won.leader!, rev: won.leader!.rev - 1n };
    await resign(stale);
    expect((await leader('e')).kv?.value.toString()).toBe('v1');
  });

  test('Proclaim and Resign without a leader key are refused', async () => {
    const { proclaim, resign } = setup();
    await expect(proclaim(undefined, 'x')).rejects.toMatchObject({ message: MISSING_LEADER_KEY_MESSAGE });
    await expect(resign(undefined)).rejects.toMatchObject({ message: MISSING_LEADER_KEY_MESSAGE });
  });

  test('candidates win in arrival order', async () => {
    const { backend, campaign, resign } = setup();
    const first = await campaign('f', backend.grant(), 'a');
    const later = [track(campaign('f', backend.grant(), 'b'))];
    await settle();
    later.push(track(campaign('f', backend.grant(), 'c')));
    await settle();
    await resign(first.leader);
    await settle();
    expect(later.map((c) => c.done)).toEqual([true, false]);
    await resign((await later[0]!.promise).leader);
    await later[1]!.promise;
  });

  test("a candidate whose lease ends while waiting fails with \"election: not leader\"", async () => {
    const { backend, campaign } = setup();
    await campaign('g', backend.grant(), 'a');
    const lease = backend.grant();
    const doomed = campaign('g', lease, 'b');
    await settle();
    backend.revoke(lease);
    await expect(doomed).rejects.toMatchObject({ message: NOT_LEADER_MESSAGE });
  });

  test('a candidate that gives up withdraws its key', async () => {
    const { backend, campaign } = setup();
    await campaign('h', backend.grant(), 'a');
    const lease = backend.grant();
    const abort = new AbortController();
    const quitter = campaign('h', lease, 'b', abort.signal);
    await settle();
    abort.abort();
    await expect(quitter).rejects.toMatchObject({ code: GrpcStatus.CANCELLED });
    await settle();
    expect(backend.get(`h/${lease.toString(16)}`)).toBeUndefined();
  });

  test('campaigning again with the same lease proclaims the new value', async () => {
    const { backend, campaign, leader } = setup();
    const lease = backend.grant();
    const first = await campaign('i', lease, 'old');
    const again = await campaign('i', lease, 'new');
    expect(again.leader?.rev).toBe(first.leader?.rev);
    expect((await leader('i')).kv?.value.toString()).toBe('new');
  });

  test('Observe streams the leader, its proclamations and the next leader', async () => {
    const { backend, campaign, proclaim, resign, observe } = setup();
    const { stream, iterator } = observe('o');
    await settle();
    // No leader yet: the stream waits for the first candidate.
    const first = await campaign('o', backend.grant(), 'p1');
    expect(await nextValue(iterator)).toBe('p1');
    const second = track(campaign('o', backend.grant(), 'p2'));
    await settle();
    await proclaim(first.leader, 'p1b');
    expect(await nextValue(iterator)).toBe('p1b');
    await resign(first.leader);
    expect(await nextValue(iterator)).toBe('p2');
    await second.promise;
    stream.cancel();
    await settle();
    expect(backend.openWatches).toBe(0);
  });

  test('Observe of an existing leader starts with its current value', async () => {
    const { backend, campaign, observe } = setup();
    await campaign('p', backend.grant(), 'now');
    const { stream, iterator } = observe('p');
    const next = await iterator.next();
    expect(next.value?.kv?.value.toString()).toBe('now');
    expect(next.value?.header?.revision).toBe(backend.revision);
    stream.cancel();
  });
});
