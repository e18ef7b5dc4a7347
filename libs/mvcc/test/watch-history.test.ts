// Replaying history and handing over to live delivery: no event lost, none doubled,
// even with writes landing while a watcher is catching up; compacted start revisions.

import { EventType, type Event } from '../src/types';
import { WatchHub, type WatchHubOptions } from '../src/watch';
import { FakeSource, openGate } from './watch-fake-source';
import { RecordingSink, bytes, describe as describeEvent, settle } from './watch-test-sink';

const quiet: Partial<WatchHubOptions> = { progressIntervalMs: 0 };

/** Expected events of a watcher: the source's history from `from` on, for keys it matches. */
function expected(source: FakeSource, from: number, matches: (key: string) => boolean): string[] {
  return source.history.filter((e) => e.kv.modRevision >= from && matches(e.kv.key.toString('latin1'))).map(describeEvent);
}

async function caughtUp(hub: WatchHub): Promise<void> {
  for (let i = 0; i < 100; i++) {
    await hub.whenCaughtUp();
    await settle(2);
    const stats = hub.stats();
    if (stats.catchingUp === 0 && stats.victims === 0) return;
  }
  throw new Error(`hub never caught up: ${JSON.stringify(hub.stats())}`);
}

describe('history replay', () => {
  it('replays from a past revision, then goes live without gap or duplicate', async () => {
    const source = new FakeSource();
    for (let i = 0; i < 30; i++) source.put(`k${i % 4}`);
    const hub = new WatchHub(source, quiet);
    const sink = new RecordingSink();
    const stream = hub.openStream(sink);

    let release!: () => void;
    source.readGate = () => new Promise((resolve) => (release = resolve));
    const id = stream.watch({ key: bytes('k'), rangeEnd: bytes('l'), startRevision: 10 });
    await settle();
    // The first history read is held open; these writes land during catch-up.
    source.put('k1');
    source.del('k2');
    source.put('other');
    source.readGate = openGate;
    release();
    await caughtUp(hub);
    source.put('k3');

    const all = expected(source, 10, (k) => k.startsWith('k'));
    expect(sink.described(id)).toEqual(all);
    expect(all).toHaveLength(30 - 9 + 3);
    expect(hub.stats()).toMatchObject({ synced: 1, catchingUp: 0 });
    hub.close();
  });

  it('reads in bounded chunks while writes keep coming, and still hands over exactly', async () => {
    const source = new FakeSource();
    for (let i = 0; i < 40; i++) source.put(`a${i % 5}`);
    const hub = new WatchHub(source, { ...quiet, historyChunkEvents: 3 });
    const sink = new RecordingSink();
    const stream = hub.openStream(sink);
    let writes = 0;
    // Every read lets one more write in before it answers.
    source.readGate = async () => {
      await Promise.resolve();
      if (writes++ < 10) source.put(`a${writes % 5}`);
    };
    const id = stream.watch({ key: bytes('a'), rangeEnd: bytes('b'), startRevision: 1 });
    await caughtUp(hub);
    source.put('a0');

    expect(sink.described(id)).toEqual(expected(source, 1, () => true));
    expect(source.readCalls.every((c) => c.limit === 3)).toBe(true);
    expect(source.readCalls.length).toBeGreaterThanOrEqual(Math.ceil(40 / 3));
    // Each history response ends on a revision the watcher has fully seen.
    const revisions = sink.eventResponses(id).map((r) => r.revision);
    expect([...revisions].sort((a, b) => a - b)).toEqual(revisions);
    hub.close();
  });

  it('one history read serves a whole group of watchers far behind', async () => {
    const source = new FakeSource();
    for (let i = 0; i < 200; i++) source.put(`g${i % 10}`);
    const hub = new WatchHub(source, { ...quiet, historyChunkEvents: 50 });
    const sink = new RecordingSink();
    const stream = hub.openStream(sink);
    const watchers = Array.from({ length: 50 }, (_, i) => ({
      key: `g${i % 10}`,
      start: 1 + i * 3,
      id: stream.watch({ key: bytes(`g${i % 10}`), startRevision: 1 + i * 3 }),
    }));
    await caughtUp(hub);
    // 200 revisions in chunks of 50: four reads for all fifty watchers, not fifty or more.
    expect(source.readCalls).toHaveLength(4);
    for (const w of watchers) expect(sink.described(w.id)).toEqual(expected(source, w.start, (k) => k === w.key));
    hub.close();
  });

  it('a batch of several revisions reaches each watcher once, from its start revision on', () => {
    const source = new FakeSource();
    const hub = new WatchHub(source, quiet);
    const sink = new RecordingSink();
    const stream = hub.openStream(sink);
    const now = stream.watch({ key: bytes('x') });
    const later = stream.watch({ key: bytes('x'), startRevision: 3 });
    source.batch(() => {
      source.put('x');
      source.put('y');
      source.put('x');
      source.txn([{ put: 'x' }, { put: 'y' }]);
    });
    expect(sink.described(now)).toEqual(['PUT x@1', 'PUT x@3', 'PUT x@4']);
    expect(sink.eventResponses(now).map((r) => r.revision)).toEqual([4]);
    expect(sink.described(later)).toEqual(['PUT x@3', 'PUT x@4']);
    hub.close();
  });

  it('a future start revision waits for that revision', () => {
    const source = new FakeSource();
    source.put('f');
    const hub = new WatchHub(source, quiet);
    const sink = new RecordingSink();
    const id = hub.openStream(sink).watch({ key: bytes('f'), startRevision: 4 });
    source.put('f');
    source.put('f');
    source.put('f');
    expect(sink.described(id)).toEqual(['PUT f@4']);
    hub.close();
  });

  it('retries a failed history read and reports the failure', async () => {
    const source = new FakeSource();
    for (let i = 0; i < 5; i++) source.put('r');
    const errors: unknown[] = [];
    const hub = new WatchHub(source, { ...quiet, retryDelayMs: 5, onError: (e) => errors.push(e) });
    const sink = new RecordingSink();
    source.failNextReads = 2;
    const id = hub.openStream(sink).watch({ key: bytes('r'), startRevision: 2 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await caughtUp(hub);
    expect(errors).toHaveLength(2);
    expect(sink.described(id)).toEqual(['PUT r@2', 'PUT r@3', 'PUT r@4', 'PUT r@5']);
    hub.close();
  });
});

describe('restore', () => {
  it('after a snapshot install, synced watchers read the jump from history, then go live', async () => {
    const source = new FakeSource();
    source.put('s');
    const hub = new WatchHub(source, quiet);
    const sink = new RecordingSink();
    const stream = hub.openStream(sink);
    const id = stream.watch({ key: bytes('s') });
    const future = stream.watch({ key: bytes('s'), startRevision: 5 });
    source.put('s');
    source.restoreWith(() => {
      for (let i = 0; i < 5; i++) source.put(i % 2 === 0 ? 's' : 'other');
    });
    expect(sink.events(id)).toHaveLength(1);
    hub.sourceRestored();
    expect(hub.revision).toBe(7);
    await caughtUp(hub);
    source.put('s');
    expect(sink.described(id)).toEqual(['PUT s@2', 'PUT s@3', 'PUT s@5', 'PUT s@7', 'PUT s@8']);
    expect(sink.described(future)).toEqual(['PUT s@5', 'PUT s@7', 'PUT s@8']);
    hub.close();
  });

  it('cancels watchers whose position the snapshot compacted away', async () => {
    const source = new FakeSource();
    const hub = new WatchHub(source, quiet);
    const sink = new RecordingSink();
    const id = hub.openStream(sink).watch({ key: bytes('s') });
    source.restoreWith(() => {
      for (let i = 0; i < 5; i++) source.put('s');
      source.compact(4);
    });
    hub.sourceRestored();
    await caughtUp(hub);
    expect(sink.ofWatcher(id).at(-1)).toMatchObject({ canceled: true, compactRevision: 4 });
    hub.close();
  });
});

describe('compaction', () => {
  it('cancels a watcher whose start revision is compacted, with compact_revision and etcd text', async () => {
    const source = new FakeSource();
    for (let i = 0; i < 12; i++) source.put('c');
    source.compact(10);
    const hub = new WatchHub(source, quiet);
    const sink = new RecordingSink();
    const stream = hub.openStream(sink);
    const id = stream.watch({ key: bytes('c'), startRevision: 5 });
    await caughtUp(hub);
    expect(sink.ofWatcher(id)).toEqual([
      expect.objectContaining({ created: true, canceled: false }),
      expect.objectContaining({
        canceled: true,
        compactRevision: 10,
        cancelReason: 'etcdserver: mvcc: required revision has been compacted',
        events: [],
      }),
    ]);
    expect(stream.watcherCount).toBe(0);
    expect(stream.cancel(id)).toBe(false);
    // At the compact revision itself history is still whole.
    const ok = stream.watch({ key: bytes('c'), startRevision: 10 });
    await caughtUp(hub);
    expect(sink.described(ok)).toEqual(['PUT c@10', 'PUT c@11', 'PUT c@12']);
    hub.close();
  });

  it('cancels a watcher overtaken by compaction while it catches up', async () => {
    const source = new FakeSource();
    for (let i = 0; i < 20; i++) source.put('z');
    const hub = new WatchHub(source, { ...quiet, historyChunkEvents: 2 });
    const sink = new RecordingSink();
    let reads = 0;
    source.readGate = async () => {
      if (++reads === 2) source.compact(15);
    };
    const id = hub.openStream(sink).watch({ key: bytes('z'), startRevision: 1 });
    await caughtUp(hub);
    const last = sink.ofWatcher(id).at(-1)!;
    expect(last).toMatchObject({ canceled: true, compactRevision: 15 });
    expect(sink.described(id)).toEqual(['PUT z@1', 'PUT z@2']);
    expect(hub.stats().synced).toBe(0);
    hub.close();
  });
});

describe('randomised interleavings', () => {
  function rng(seed: number): () => number {
    let s = seed >>> 0 || 1;
    return () => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return (s >>> 0) / 2 ** 32;
    };
  }

  interface Tracked {
    sink: RecordingSink;
    id: bigint;
    from: number;
    matches: (key: string) => boolean;
    noDelete: boolean;
    prevKv: boolean;
    fragment: boolean;
  }

  /** The revision of the version before `event` of the same key, as prev_kv should carry it. */
  function prevRevision(source: FakeSource, event: Event): string {
    let found = '-';
    for (const e of source.history) {
      if (e.kv.modRevision >= event.kv.modRevision) break;
      if (e.kv.key.equals(event.kv.key)) found = e.type === EventType.PUT ? String(e.kv.modRevision) : '-';
    }
    return found;
  }

  it.each(Array.from({ length: 25 }, (_, i) => i + 1))('seed %i: every watcher sees exactly its history', async (seed) => {
    const random = rng(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const source = new FakeSource();
    const hub = new WatchHub(source, {
      ...quiet,
      queueResponsesMax: 2,
      queueBytesMax: 600,
      historyChunkEvents: 4,
      catchUpConcurrency: 2,
      catchUpGroupMax: [1, 3, 128][seed % 3]!,
      responseBytesMax: 250,
    });
    source.readGate = async () => {
      for (let i = Math.floor(random() * 3); i > 0; i--) await Promise.resolve();
    };
    const sinks = [new RecordingSink(), new RecordingSink(), new RecordingSink()];
    const streams = sinks.map((s) => hub.openStream(s));
    const keys = ['a', 'ab', 'b', 'ba', 'c'];
    const tracked: Tracked[] = [];

    for (let step = 0; step < 250; step++) {
      const r = random();
      if (r < 0.35) source.put(pick(keys), 'x'.repeat(Math.floor(random() * 120)));
      else if (r < 0.45) source.del(pick(keys));
      else if (r < 0.52) source.batch(() => {
        source.txn([
          { put: pick(keys), value: 'x'.repeat(Math.floor(random() * 120)) },
          { put: pick(keys), value: 'y'.repeat(Math.floor(random() * 120)) },
          { put: pick(keys) },
        ]);
        source.put(pick(keys));
      });
      else if (r < 0.62) {
        const index = Math.floor(random() * streams.length);
        const start = random() < 0.4 ? 0 : 1 + Math.floor(random() * Math.max(1, source.currentRevision()));
        const prefix = pick(keys);
        const single = random() < 0.5;
        const noDelete = random() < 0.2;
        const prevKv = random() < 0.3;
        const fragment = random() < 0.3;
        const id = streams[index]!.watch({
          prevKv,
          fragment,
          key: bytes(prefix),
          rangeEnd: single ? undefined : bytes(prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)),
          startRevision: start,
          filters: noDelete ? [1] : [],
        });
        const from = start === 0 ? hub.revision + 1 : start;
        tracked.push({
          sink: sinks[index]!,
          id,
          from,
          matches: single ? (k) => k === prefix : (k) => k.startsWith(prefix),
          noDelete,
          prevKv,
          fragment,
        });
      } else if (r < 0.8) {
        const index = Math.floor(random() * sinks.length);
        sinks[index]!.blocked = !sinks[index]!.blocked;
        if (!sinks[index]!.blocked) streams[index]!.drain();
      } else {
        await settle(1);
      }
    }
    sinks.forEach((s, i) => {
      s.blocked = false;
      streams[i]!.drain();
    });
    await caughtUp(hub);

    for (const t of tracked) {
      const describeFor = (e: Event): string =>
        t.prevKv ? `${describeEvent(e)} prev=${prevRevision(source, e)}` : describeEvent(e);
      const want = source.history
        .filter((e) => e.kv.modRevision >= t.from && t.matches(e.kv.key.toString('latin1')))
        .filter((e) => !(t.noDelete && e.type === EventType.DELETE))
        .map(describeFor);
      const got = t.sink
        .events(t.id)
        .map((e) => (t.prevKv ? `${describeEvent(e)} prev=${e.prevKv?.modRevision ?? '-'}` : describeEvent(e)));
      expect({ id: t.id, events: got }).toEqual({ id: t.id, events: want });
      // Fragments: only for watchers that asked; every run of fragments ends with a last piece.
      const flags = t.sink.eventResponses(t.id).map((r) => r.fragment);
      if (!t.fragment) expect(flags.every((f) => !f)).toBe(true);
      expect(flags.at(-1) ?? false).toBe(false);
    }
    expect(hub.stats()).toMatchObject({ catchingUp: 0, victims: 0 });
    hub.close();
  });
});
