/**
 * Election.Observe: streams the leader's key-value each time it changes — a new leader, or
 * the same leader proclaiming a new value. With no leader it waits for the first candidate.
 * Ends (OK) if the server cancels a watch it depends on, as etcd's does; the client learns
 * to re-observe from the stream closing.
 */
import { etcdserverpb, mvccpb, type v3electionpb } from '@keel/proto';
import type { StreamCall } from '../rpc/types';
import type { ConcurrencyBackend } from './backend';
import { firstCreatedRequest, prefixEnd } from './queue';

type ObserveCall = StreamCall<v3electionpb.LeaderRequest, v3electionpb.LeaderResponse>;

interface Announcement {
  header: etcdserverpb.ResponseHeader | undefined;
  kv: mvccpb.KeyValue;
}

export async function observeLeaders(backend: ConcurrencyBackend, prefix: Buffer, call: ObserveCall): Promise<void> {
  const { signal } = call;
  const sender = drainAwareSender(call);
  while (!signal.aborted) {
    const found = await backend.range(firstCreatedRequest(prefix), signal);
    const current = found.kvs[0];
    const leader = current ? { header: found.header, kv: current } : await firstCandidate(backend, prefix, found, signal);
    if (leader === undefined) return;
    await sender(leader);
    const deleted = await followLeader(backend, leader, sender, signal);
    if (!deleted) return;
  }
}

/** Waits for the first key put under an empty prefix; undefined if the watch is cancelled. */
async function firstCandidate(
  backend: ConcurrencyBackend,
  prefix: Buffer,
  empty: etcdserverpb.RangeResponse,
  signal: AbortSignal,
): Promise<Announcement | undefined> {
  const request = etcdserverpb.WatchCreateRequest.fromPartial({
    key: prefix,
    rangeEnd: prefixEnd(prefix),
    startRevision: empty.header?.revision ?? 0n,
  });
  for await (const response of backend.watch(request, signal)) {
    if (response.canceled) return undefined;
    const put = response.events.find((event) => event.type === mvccpb.Event_EventType.PUT && event.kv !== undefined);
    if (put?.kv !== undefined) {
      const header = response.header && { ...response.header, revision: put.kv.modRevision };
      return { header, kv: put.kv };
    }
  }
  return undefined;
}

/**
 * Streams the leader's later values until its key is deleted (→ true) or the watch is
 * cancelled by the server (→ false).
 */
async function followLeader(
  backend: ConcurrencyBackend,
  leader: Announcement,
  send: (announcement: Announcement) => Promise<void>,
  signal: AbortSignal,
): Promise<boolean> {
  const request = etcdserverpb.WatchCreateRequest.fromPartial({
    key: leader.kv.key,
    startRevision: (leader.header?.revision ?? 0n) + 1n,
  });
  for await (const response of backend.watch(request, signal)) {
    if (response.canceled) return false;
    for (const event of response.events) {
      if (event.type === mvccpb.Event_EventType.DELETE) return true;
      if (event.kv !== undefined) await send({ header: response.header, kv: event.kv });
    }
  }
  return false;
}

/** Writes an announcement, waiting for the call to drain when the client reads slowly. */
function drainAwareSender(call: ObserveCall): (announcement: Announcement) => Promise<void> {
  let drained: (() => void) | undefined;
  call.onDrain(() => {
    const wake = drained;
    drained = undefined;
    wake?.();
  });
  return async (announcement) => {
    if (call.ended) return;
    if (call.write({ header: announcement.header, kv: announcement.kv })) return;
    await new Promise<void>((resolve) => {
      drained = resolve;
      call.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  };
}
