import { EventType, type Event, type WatchResponse } from '@keel/mvcc';
import { etcdserverpb } from '@keel/proto';
import { EVENT_CACHE_SIZE, EventPbCache, eventToPb, responseToPb } from './watch-pb';
import type { HeaderFn } from './header';

function put(revision: number, key = `k${revision}`): Event {
  return {
    type: EventType.PUT,
    kv: { key: Buffer.from(key), createRevision: 2, modRevision: revision, version: revision - 1, value: Buffer.from(`v${revision}`), lease: 0n },
  };
}

function response(watchId: bigint, events: Event[], compactRevision = 0): WatchResponse {
  return { watchId, revision: 9, created: false, canceled: false, compactRevision, cancelReason: '', fragment: false, events };
}

const header: HeaderFn = (revision) => ({ clusterId: 1n, memberId: 2n, revision: BigInt(revision ?? 0), raftTerm: 3n });

describe('EventPbCache', () => {
  it('converts an event once for all the watchers it reaches, equal to a fresh conversion', () => {
    const cache = new EventPbCache();
    const event = put(7);
    const first = cache.toPb(event);
    expect(first).toEqual(eventToPb(event));
    expect(first.kv).toEqual({ key: Buffer.from('k7'), createRevision: 2n, modRevision: 7n, version: 6n, value: Buffer.from('v7'), lease: 0n });
    for (let watcher = 0; watcher < 100; watcher++) expect(cache.toPb(event)).toBe(first);
  });

  it('finds events by identity: an equal but distinct event gets its own conversion', () => {
    const cache = new EventPbCache();
    const a = cache.toPb(put(7));
    const b = cache.toPb(put(7));
    expect(b).toEqual(a);
    expect(b).not.toBe(a);
  });

  it('remembers the last EVENT_CACHE_SIZE events and converts older ones again', () => {
    const cache = new EventPbCache();
    const events = Array.from({ length: EVENT_CACHE_SIZE + 1 }, (_, i) => put(i + 2));
    const converted = events.map((event) => cache.toPb(event));
    // The newest EVENT_CACHE_SIZE are still cached; the first was replaced by the last.
    for (let i = 1; i < events.length; i++) expect(cache.toPb(events[i]!)).toBe(converted[i]);
    const again = cache.toPb(events[0]!);
    expect(again).not.toBe(converted[0]);
    expect(again).toEqual(converted[0]);
  });
});

describe('responseToPb', () => {
  it('encodes what the uncached conversion encodes, per watcher', () => {
    const cache = new EventPbCache();
    const events = [put(7), put(8), { ...put(8, 'k8b'), prevKv: put(5, 'k8b').kv }];
    for (const watchId of [1n, 2n]) {
      const message = responseToPb(response(watchId, events), header, cache);
      const expected: etcdserverpb.WatchResponse = {
        header: header(9),
        watchId,
        created: false,
        canceled: false,
        compactRevision: 0n,
        cancelReason: '',
        fragment: false,
        events: events.map(eventToPb),
      };
      expect(etcdserverpb.WatchResponse.encode(message).finish()).toEqual(etcdserverpb.WatchResponse.encode(expected).finish());
    }
  });

  it('keeps etcd 3.4 compaction cancels: header revision 0, the compact revision, no reason', () => {
    const message = responseToPb({ ...response(1n, [], 4), canceled: true, cancelReason: 'ignored' }, header, new EventPbCache());
    expect(message.header!.revision).toBe(0n);
    expect(message.compactRevision).toBe(4n);
    expect(message.cancelReason).toBe('');
  });
});
