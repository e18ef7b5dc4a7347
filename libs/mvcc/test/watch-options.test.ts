// Per-watcher options and stream requests: prev_kv, filters, fragments, progress
// notifications, watch IDs, cancel, invalid creates.

import { EventType } from '../src/types';
import {
  NO_WATCH_ID,
  WATCH_ID_DUPLICATE,
  WATCH_RANGE_EMPTY,
  WatchFilter,
  WatchHub,
  WatchStreamBackloggedError,
  type WatchHubOptions,
  type WatchResponse,
} from '../src/watch';
import { eventFieldBytes } from '../src/watch/response';
import { FakeSource, openGate } from './watch-fake-source';
import { RecordingSink, bytes, settle } from './watch-test-sink';

const quiet: Partial<WatchHubOptions> = { progressIntervalMs: 0 };

function setup(options: Partial<WatchHubOptions> = {}): { source: FakeSource; hub: WatchHub; sink: RecordingSink } {
  const source = new FakeSource();
  const hub = new WatchHub(source, { ...quiet, ...options });
  return { source, hub, sink: new RecordingSink() };
}

describe('prev_kv', () => {
  it('live: looks up the previous version (once per event for all watchers), none for creates', async () => {
    const { source, hub, sink } = setup();
    const stream = hub.openStream(sink);
    const a = stream.watch({ key: bytes('p'), prevKv: true });
    const b = stream.watch({ key: bytes('p'), rangeEnd: bytes('q'), prevKv: true });
    const plain = stream.watch({ key: bytes('p') });
    source.put('p', 'one');
    source.put('p', 'two');
    source.del('p');
    await settle();
    for (const id of [a, b]) {
      const events = sink.events(id);
      expect(events.map((e) => e.prevKv?.value.toString())).toEqual([undefined, 'one', 'two']);
      expect(events[2]!.type).toBe(EventType.DELETE);
    }
    expect(sink.events(plain).every((e) => e.prevKv === undefined)).toBe(true);
    expect(source.prevKvLookups).toBe(2);
    hub.close();
  });

  it('live: keeps stream order while lookups are pending', async () => {
    const { source, hub, sink } = setup();
    const stream = hub.openStream(sink);
    const withPrev = stream.watch({ key: bytes('o'), prevKv: true });
    const plain = stream.watch({ key: bytes('o2') });
    source.put('o', '1');
    source.put('o', '2');
    source.put('o2');
    await settle();
    const order = sink.responses.filter((r) => r.events.length > 0).map((r) => `${r.watchId}@${r.revision}`);
    expect(order).toEqual([`${withPrev}@1`, `${withPrev}@2`, `${plain}@3`]);
    hub.close();
  });

  it('history: events carry prevKv read along with them', async () => {
    const { source, hub, sink } = setup();
    source.put('h', 'one');
    source.put('h', 'two');
    const id = hub.openStream(sink).watch({ key: bytes('h'), startRevision: 1, prevKv: true });
    await hub.whenCaughtUp();
    expect(sink.events(id).map((e) => e.prevKv?.value.toString())).toEqual([undefined, 'one']);
    hub.close();
  });
});

describe('filters', () => {
  it('NOPUT and NODELETE drop events; a batch filtered to nothing sends nothing', async () => {
    const { source, hub, sink } = setup();
    const stream = hub.openStream(sink);
    const noPut = stream.watch({ key: bytes('f'), filters: [WatchFilter.NOPUT] });
    const noDelete = stream.watch({ key: bytes('f'), filters: [WatchFilter.NODELETE] });
    source.put('f');
    source.del('f');
    source.put('f');
    expect(sink.events(noPut).map((e) => e.type)).toEqual([EventType.DELETE]);
    expect(sink.events(noDelete).map((e) => e.kv.modRevision)).toEqual([1, 3]);
    expect(sink.ofWatcher(noPut).filter((r) => !r.created)).toHaveLength(1);
    // Same filters on the history path.
    const past = stream.watch({ key: bytes('f'), startRevision: 1, filters: [WatchFilter.NOPUT] });
    await hub.whenCaughtUp();
    expect(sink.events(past).map((e) => e.kv.modRevision)).toEqual([2]);
    hub.close();
  });
});

describe('fragments', () => {
  const value = 'v'.repeat(100);

  it('splits a large revision into fragments, all but the last marked, only for fragment watchers', () => {
    const { source, hub, sink } = setup({ responseBytesMax: 1000 });
    const stream = hub.openStream(sink);
    const fragmented = stream.watch({ key: bytes('big/'), rangeEnd: bytes('big0'), fragment: true });
    const whole = stream.watch({ key: bytes('big/'), rangeEnd: bytes('big0') });
    const ops = Array.from({ length: 30 }, (_, i) => ({ put: `big/${String(i).padStart(2, '0')}`, value }));
    source.txn(ops);

    const pieces = sink.eventResponses(fragmented);
    expect(pieces.length).toBeGreaterThan(2);
    expect(pieces.map((p) => p.fragment)).toEqual([...pieces.slice(1).map(() => true), false]);
    expect(pieces.flatMap((p) => p.events.map((e) => e.kv.key.toString()))).toEqual(ops.map((o) => o.put));
    for (const piece of pieces) {
      expect(64 + piece.events.reduce((sum, e) => sum + eventFieldBytes(e), 0)).toBeLessThan(1000);
      expect(piece.revision).toBe(1);
    }
    const unsplit = sink.eventResponses(whole);
    expect(unsplit).toHaveLength(1);
    expect(unsplit[0]!.events).toHaveLength(30);
    expect(unsplit[0]!.fragment).toBe(false);
    hub.close();
  });

  it('a single oversized event is sent whole; small responses are never fragmented', () => {
    const { source, hub, sink } = setup({ responseBytesMax: 200 });
    const id = hub.openStream(sink).watch({ key: bytes('s'), fragment: true });
    source.put('s', 'x'.repeat(500));
    source.put('s', 'y');
    expect(sink.eventResponses(id).map((r) => [r.events.length, r.fragment])).toEqual([
      [1, false],
      [1, false],
    ]);
    hub.close();
  });

  it('history responses are cut at revision boundaries near the byte limit', async () => {
    const { source, hub, sink } = setup({ responseBytesMax: 1000 });
    for (let i = 0; i < 20; i++) source.put('c', value);
    const id = hub.openStream(sink).watch({ key: bytes('c'), startRevision: 1 });
    await hub.whenCaughtUp();
    const responses = sink.eventResponses(id);
    expect(responses.length).toBeGreaterThan(2);
    expect(responses.flatMap((r) => r.events)).toHaveLength(20);
    for (const r of responses) expect(r.revision).toBe(r.events.at(-1)!.kv.modRevision);
    hub.close();
  });
});

describe('progress notifications', () => {
  it('periodic: only to synced, idle progress_notify watchers, with the current revision', async () => {
    const { source, hub, sink } = setup();
    source.put('x');
    source.put('x');
    const stream = hub.openStream(sink);
    const idle = stream.watch({ key: bytes('idle'), progressNotify: true });
    const busy = stream.watch({ key: bytes('busy'), progressNotify: true });
    const silent = stream.watch({ key: bytes('idle') });
    let release!: () => void;
    source.readGate = () => new Promise((resolve) => (release = resolve));
    const behind = stream.watch({ key: bytes('x'), startRevision: 1, progressNotify: true });
    await settle();
    source.put('busy');
    hub.sendProgressNotifications();
    const progress = (id: bigint): number[] =>
      sink.ofWatcher(id).filter((r) => !r.created && r.events.length === 0).map((r) => r.revision);
    expect(progress(idle)).toEqual([3]);
    expect(progress(busy)).toEqual([]);
    expect(progress(silent)).toEqual([]);
    expect(progress(behind)).toEqual([]);
    hub.sendProgressNotifications();
    expect(progress(busy)).toEqual([3]);
    source.readGate = openGate;
    release();
    await hub.whenCaughtUp();
    hub.close();
  });

  it('periodic: driven by a timer at the configured interval', async () => {
    const { source, hub, sink } = setup({ progressIntervalMs: 20 });
    const id = hub.openStream(sink).watch({ key: bytes('t'), progressNotify: true });
    source.put('other');
    const notes = (): WatchResponse[] => sink.ofWatcher(id).filter((r) => !r.created);
    // Timers run late on a busy machine: wait for two ticks rather than for a fixed time.
    for (let waited = 0; notes().length < 2 && waited < 5000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(notes().length).toBeGreaterThanOrEqual(2);
    expect(notes().every((r) => r.revision === 1 && r.events.length === 0)).toBe(true);
    hub.close();
  });

  it('requested: answered at once when all watchers are synced, else when they become so', async () => {
    const { source, hub, sink } = setup();
    const stream = hub.openStream(sink);
    stream.watch({ key: bytes('a') });
    source.put('a');
    stream.requestProgress();
    expect(sink.responses.at(-1)).toMatchObject({ watchId: NO_WATCH_ID, revision: 1, events: [] });

    let release!: () => void;
    source.readGate = () => new Promise((resolve) => (release = resolve));
    const behind = stream.watch({ key: bytes('a'), startRevision: 1 });
    await settle();
    source.put('a');
    sink.clear();
    stream.requestProgress();
    expect(sink.responses).toEqual([]);
    source.readGate = openGate;
    release();
    await hub.whenCaughtUp();
    // The history read held open covered revision 1; revision 2 came while it was held and
    // needs a second read. Both come before the progress response that vouches for them.
    expect(sink.responses.map((r) => [r.watchId, r.revision])).toEqual([
      [behind, 1],
      [behind, 2],
      [NO_WATCH_ID, 2],
    ]);
    hub.close();
  });
});

describe('watch IDs, cancel and invalid requests', () => {
  it('allocates IDs per stream, accepts client IDs and rejects duplicates with etcd text', () => {
    const { hub, sink } = setup();
    const one = hub.openStream(sink);
    const other = hub.openStream(new RecordingSink());
    expect(one.watch({ key: bytes('a') })).toBe(0n);
    expect(other.watch({ key: bytes('a') })).toBe(0n);
    expect(one.watch({ key: bytes('a'), watchId: 7n })).toBe(7n);
    expect(one.watch({ key: bytes('a'), watchId: 7n })).toBe(NO_WATCH_ID);
    expect(sink.responses.at(-1)).toMatchObject({ watchId: -1n, created: true, canceled: true, cancelReason: WATCH_ID_DUPLICATE });
    expect(one.watch({ key: bytes('a'), watchId: 1n })).toBe(1n);
    expect(one.watch({ key: bytes('a') })).toBe(2n); // skips the client's 1
    expect(one.watch({ key: bytes('a'), watchId: 2n ** 62n })).toBe(2n ** 62n);
    hub.close();
  });

  it('refuses an empty range', () => {
    const { hub, sink } = setup();
    expect(hub.openStream(sink).watch({ key: bytes('b'), rangeEnd: bytes('a') })).toBe(NO_WATCH_ID);
    expect(sink.responses).toEqual([expect.objectContaining({ canceled: true, cancelReason: WATCH_RANGE_EMPTY })]);
    hub.close();
  });

  it('cancel stops events, answers canceled, frees the ID; unknown IDs are ignored', async () => {
    const { source, hub, sink } = setup();
    const stream = hub.openStream(sink);
    const id = stream.watch({ key: bytes('k') });
    source.put('k');
    expect(stream.cancel(id)).toBe(true);
    expect(sink.responses.at(-1)).toMatchObject({ watchId: id, canceled: true, revision: 1 });
    source.put('k');
    expect(sink.events(id)).toHaveLength(1);
    expect(stream.cancel(id)).toBe(false);
    expect(stream.cancel(99n)).toBe(false);
    // Canceling while a history read is in flight drops its result.
    const past = stream.watch({ key: bytes('k'), startRevision: 1 });
    stream.cancel(past);
    await hub.whenCaughtUp();
    expect(sink.events(past)).toEqual([]);
    expect(hub.stats()).toMatchObject({ watchers: 0, synced: 0, catchingUp: 0 });
    hub.close();
  });

  it('refuses requests while too many control responses are unread', () => {
    const { hub, sink } = setup({ controlResponsesMax: 3 });
    const stream = hub.openStream(sink);
    sink.blocked = true;
    stream.watch({ key: bytes('a') }); // sent; the sink now reports backpressure
    for (let i = 0; i < 3; i++) stream.watch({ key: bytes('a') });
    expect(() => stream.watch({ key: bytes('a') })).toThrow(WatchStreamBackloggedError);
    sink.blocked = false;
    stream.drain();
    expect(stream.watch({ key: bytes('a') })).toBe(4n);
    hub.close();
  });

  it('a sink that throws loses its stream, not the commit path or other streams', async () => {
    const errors: unknown[] = [];
    const { source, hub, sink } = setup({ onError: (e) => errors.push(e) });
    const broken = new RecordingSink();
    broken.onSend = (r) => {
      if (r.events.length > 0) throw new Error('socket gone');
    };
    const bad = hub.openStream(broken);
    bad.watch({ key: bytes('k') });
    const good = hub.openStream(sink);
    const id = good.watch({ key: bytes('k') });
    expect(() => source.put('k')).not.toThrow();
    source.put('k');
    await settle();
    expect(errors).toEqual([new Error('socket gone')]);
    expect(bad.isClosed).toBe(true);
    expect(sink.events(id)).toHaveLength(2);
    expect(hub.stats()).toMatchObject({ streams: 1, synced: 1 });
    hub.close();
  });

  it('closing a stream removes its watchers; closing the hub closes its streams', () => {
    const { source, hub, sink } = setup();
    const stream = hub.openStream(sink);
    stream.watch({ key: bytes('a') });
    stream.watch({ key: bytes('a'), rangeEnd: bytes('b') });
    stream.close();
    source.put('a');
    expect(sink.responses.filter((r) => r.events.length > 0)).toEqual([]);
    expect(hub.stats()).toMatchObject({ streams: 0, synced: 0 });
    const second = hub.openStream(new RecordingSink());
    second.watch({ key: bytes('a') });
    hub.close();
    expect(second.isClosed).toBe(true);
    expect(() => hub.openStream(sink)).toThrow(/closed/);
  });
});
