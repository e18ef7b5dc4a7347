// The watch hub over the real store (RocksDB in a temp dir): live events, history
// replay racing with writes, prev_kv, compaction, and a slow consumer catching up.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MvccStore } from '../src/store';
import { EventType } from '../src/types';
import { WatchHub, type WatchHubOptions } from '../src/watch';
import { RecordingSink, bytes, settle } from './watch-test-sink';

const dirs: string[] = [];
const stores: MvccStore[] = [];
const hubs: WatchHub[] = [];

async function openStore(): Promise<MvccStore> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-watch-'));
  dirs.push(dir);
  const store = await MvccStore.open(dir);
  stores.push(store);
  return store;
}

function openHub(store: MvccStore, options: Partial<WatchHubOptions> = {}): WatchHub {
  const hub = new WatchHub(store, { progressIntervalMs: 0, ...options });
  hubs.push(hub);
  return hub;
}

afterAll(async () => {
  for (const hub of hubs) hub.close();
  for (const store of stores) await store.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** What the store wrote, as "PUT key@rev" / "DEL key@rev", straight from its own history. */
async function storeHistory(store: MvccStore, from: number, prefix: string): Promise<string[]> {
  const end = Buffer.from(prefix);
  end[end.length - 1]!++;
  const { events } = await store.readEvents(from, store.currentRevision(), { key: bytes(prefix), rangeEnd: end }, 1e9);
  return events.map((e) => `${e.type === EventType.PUT ? 'PUT' : 'DEL'} ${e.kv.key.toString()}@${e.kv.modRevision}`);
}

function seen(sink: RecordingSink, id: bigint): string[] {
  return sink.events(id).map((e) => `${e.type === EventType.PUT ? 'PUT' : 'DEL'} ${e.kv.key.toString()}@${e.kv.modRevision}`);
}

async function caughtUp(hub: WatchHub): Promise<void> {
  for (let i = 0; i < 500; i++) {
    await hub.whenCaughtUp();
    await settle(2);
    if (hub.stats().catchingUp === 0 && hub.stats().victims === 0) return;
  }
  throw new Error(`hub never caught up: ${JSON.stringify(hub.stats())}`);
}

describe('watch hub over MvccStore', () => {
  it('delivers live puts, deletes and transactions with prev_kv', async () => {
    const store = await openStore();
    await store.put({ key: bytes('app/a'), value: bytes('0') });
    const hub = openHub(store);
    const sink = new RecordingSink();
    const stream = hub.openStream(sink);
    const id = stream.watch({ key: bytes('app/'), rangeEnd: bytes('app0'), prevKv: true });
    await store.put({ key: bytes('app/a'), value: bytes('1') });
    await store.put({ key: bytes('other'), value: bytes('x') });
    await store.deleteRange({ key: bytes('app/a') });
    await store.put({ key: bytes('app/b'), value: bytes('2') });
    await store.txn({
      success: [
        { put: { key: bytes('app/b'), value: bytes('3') } },
        { put: { key: bytes('app/c'), value: bytes('4') } },
        { put: { key: bytes('zzz'), value: bytes('5') } },
      ],
    });
    await settle();
    expect(seen(sink, id)).toEqual(['PUT app/a@3', 'DEL app/a@5', 'PUT app/b@6', 'PUT app/b@7', 'PUT app/c@7']);
    expect(sink.events(id).map((e) => e.prevKv?.value.toString())).toEqual(['0', '1', undefined, '2', undefined]);
    // One response per transaction.
    expect(sink.eventResponses(id).map((r) => r.revision)).toEqual([3, 5, 6, 7]);
    expect(sink.ofWatcher(id)[0]).toMatchObject({ created: true, revision: 2 });
  });

  it('replays history in chunks while writes race it, then hands over with no gap or duplicate', async () => {
    const store = await openStore();
    for (let i = 0; i < 200; i++) await store.put({ key: bytes(`r/${i % 7}`), value: bytes(`v${i}`) });
    const hub = openHub(store, { historyChunkEvents: 16, catchUpConcurrency: 2 });
    const sink = new RecordingSink();
    const stream = hub.openStream(sink);
    const ids = [1, 50, 150].map((start) => stream.watch({ key: bytes('r/'), rangeEnd: bytes('r0'), startRevision: start }));
    // Writers racing the catch-up.
    const writers = (async () => {
      for (let i = 0; i < 150; i++) {
        if (i % 10 === 0) await store.deleteRange({ key: bytes(`r/${i % 7}`) });
        else await store.put({ key: bytes(`r/${i % 7}`), value: bytes(`w${i}`) });
      }
    })();
    await writers;
    await caughtUp(hub);
    await store.put({ key: bytes('r/last'), value: bytes('end') });
    await settle();
    for (const [i, start] of [1, 50, 150].entries()) {
      expect(seen(sink, ids[i]!)).toEqual(await storeHistory(store, start, 'r/'));
    }
    expect(hub.stats()).toMatchObject({ synced: 3, catchingUp: 0, victims: 0 });
  });

  it('cancels a watch from a compacted revision with the compact revision', async () => {
    const store = await openStore();
    for (let i = 0; i < 20; i++) await store.put({ key: bytes('c'), value: bytes(`${i}`) });
    await store.compact(13);
    const hub = openHub(store);
    const sink = new RecordingSink();
    const stream = hub.openStream(sink);
    const gone = stream.watch({ key: bytes('c'), startRevision: 6 });
    const fine = stream.watch({ key: bytes('c'), startRevision: 14 });
    await caughtUp(hub);
    expect(sink.ofWatcher(gone).at(-1)).toMatchObject({
      canceled: true,
      compactRevision: 13,
      cancelReason: 'etcdserver: mvcc: required revision has been compacted',
    });
    expect(seen(sink, fine).map((e) => e.split('@')[1])).toEqual(['14', '15', '16', '17', '18', '19', '20', '21']);
  });

  it('a blocked consumer does not hold up another stream and catches up from RocksDB', async () => {
    const store = await openStore();
    const hub = openHub(store, { queueResponsesMax: 4, historyChunkEvents: 10 });
    const slowSink = new RecordingSink();
    const fastSink = new RecordingSink();
    const slow = hub.openStream(slowSink);
    const fast = hub.openStream(fastSink);
    const slowId = slow.watch({ key: bytes('s/'), rangeEnd: bytes('s0'), prevKv: true });
    const fastId = fast.watch({ key: bytes('s/'), rangeEnd: bytes('s0') });
    slowSink.blocked = true;
    for (let i = 0; i < 100; i++) await store.put({ key: bytes(`s/${i % 3}`), value: bytes(`${i}`) });
    await settle();
    expect(fastSink.events(fastId)).toHaveLength(100);
    expect(slowSink.events(slowId).length).toBeLessThan(10);
    expect(hub.stats().victims).toBe(1);
    slowSink.blocked = false;
    slow.drain();
    await caughtUp(hub);
    const want = await storeHistory(store, 1, 's/');
    expect(seen(slowSink, slowId)).toEqual(want);
    // prev_kv came along on the history path too: each value is the one written before.
    const events = slowSink.events(slowId);
    for (const event of events.slice(3)) {
      expect(Number(event.prevKv!.value.toString())).toBe(Number(event.kv.value.toString()) - 3);
    }
  });
});
