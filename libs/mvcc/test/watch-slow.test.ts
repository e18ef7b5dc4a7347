// Slow consumers: a blocked sink must not stall other streams or grow memory without
// limit, and once it drains it must catch up with every event, in order, once.

import { WatchHub, type WatchHubOptions } from '../src/watch';
import { FakeSource } from './watch-fake-source';
import { RecordingSink, bytes, describe as describeEvent, settle } from './watch-test-sink';

const limits: Partial<WatchHubOptions> = { progressIntervalMs: 0, queueResponsesMax: 8, queueBytesMax: 4096 };

async function caughtUp(hub: WatchHub): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await hub.whenCaughtUp();
    await settle(2);
    if (hub.stats().catchingUp === 0 && hub.stats().victims === 0) return;
  }
  throw new Error(`hub never caught up: ${JSON.stringify(hub.stats())}`);
}

describe('slow watchers', () => {
  it('a blocked sink stalls nobody else, stays bounded, then catches up exactly', async () => {
    const source = new FakeSource();
    const hub = new WatchHub(source, limits);
    const slowSink = new RecordingSink();
    const fastSink = new RecordingSink();
    const slow = hub.openStream(slowSink);
    const fast = hub.openStream(fastSink);
    const slowId = slow.watch({ key: bytes('k'), rangeEnd: bytes('l') });
    const slowKey = slow.watch({ key: bytes('k7') });
    const fastId = fast.watch({ key: bytes('k'), rangeEnd: bytes('l') });
    slowSink.blocked = true;

    let maxQueued = 0;
    for (let i = 0; i < 500; i++) {
      source.put(`k${i % 10}`, `value-${i}`);
      maxQueued = Math.max(maxQueued, slow.outbox.length);
      // The fast stream has everything so far, at every step.
      expect(fastSink.events(fastId)).toHaveLength(i + 1);
    }
    // Bounded: per watcher at most queueResponsesMax responses wait, plus control responses.
    expect(maxQueued).toBeLessThanOrEqual(2 * 8 + 2);
    expect(slowSink.responses.length).toBeLessThan(10);
    expect(hub.stats().victims).toBe(2);

    // Writes keep landing while the slow one drains and reads history.
    slowSink.blocked = false;
    slowSink.onSend = (() => {
      let extra = 0;
      return () => {
        if (extra < 50 && extra++ % 5 === 0) source.put(`k${extra % 10}`);
      };
    })();
    slow.drain();
    await caughtUp(hub);
    slowSink.onSend = null;
    source.put('k7', 'last');

    const all = source.history.map(describeEvent);
    expect(slowSink.described(slowId)).toEqual(all);
    expect(slowSink.described(slowKey)).toEqual(source.history.filter((e) => e.kv.key.toString() === 'k7').map(describeEvent));
    expect(fastSink.described(fastId)).toEqual(all);
    expect(hub.stats()).toMatchObject({ watchers: 3, synced: 3, victims: 0, catchingUp: 0 });
    hub.close();
  });

  it('the byte limit alone makes a victim; an oversized unit still passes when the queue is empty', async () => {
    const source = new FakeSource();
    const hub = new WatchHub(source, limits);
    const sink = new RecordingSink();
    const stream = hub.openStream(sink);
    const id = stream.watch({ key: bytes('big') });
    sink.blocked = true;
    source.put('big', 'x'.repeat(10_000)); // larger than queueBytesMax: sent, sink now blocked
    source.put('big', 'y'.repeat(3000));
    source.put('big', 'z'.repeat(3000)); // would exceed 4096 queued bytes
    expect(hub.stats().victims).toBe(1);
    expect(sink.events(id)).toHaveLength(1);
    sink.blocked = false;
    stream.drain();
    await caughtUp(hub);
    expect(sink.events(id).map((e) => e.kv.modRevision)).toEqual([1, 2, 3]);
    hub.close();
  });

  it('a victim that never drains holds no more than its limit while writes continue', () => {
    const source = new FakeSource();
    const hub = new WatchHub(source, limits);
    const sink = new RecordingSink();
    const stream = hub.openStream(sink);
    for (let i = 0; i < 20; i++) stream.watch({ key: bytes('w'), rangeEnd: bytes('x') });
    sink.blocked = true;
    for (let i = 0; i < 2000; i++) source.put(`w${i % 3}`, 'v'.repeat(50));
    // 20 watchers x 8 responses, plus the 20 created responses.
    expect(stream.outbox.length).toBeLessThanOrEqual(20 * 8 + 20);
    expect(hub.stats().victims).toBe(20);
    expect(hub.stats().synced).toBe(0);
    hub.close();
  });

  it('catch-up of a victim is paced by its queue: it blocks again rather than overfilling', async () => {
    const source = new FakeSource();
    const hub = new WatchHub(source, { ...limits, historyChunkEvents: 4 });
    const sink = new RecordingSink();
    const stream = hub.openStream(sink);
    const id = stream.watch({ key: bytes('p') });
    sink.blocked = true;
    for (let i = 0; i < 100; i++) source.put('p', 'v'.repeat(200));
    // Let a few responses through at a time; the queue never exceeds its limit.
    let maxQueued = 0;
    for (let round = 0; round < 200 && hub.stats().synced === 0; round++) {
      stream.drain(); // sink still "blocked": each drain lets exactly one response through
      await settle(1);
      maxQueued = Math.max(maxQueued, stream.outbox.length);
    }
    sink.blocked = false;
    stream.drain();
    await caughtUp(hub);
    expect(maxQueued).toBeLessThanOrEqual(8 + 1);
    // No wasted reads: a chunk is read only when there is room to queue it.
    expect(source.readCalls.length).toBeLessThanOrEqual(Math.ceil(100 / 4));
    expect(sink.events(id).map((e) => e.kv.modRevision)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    hub.close();
  });
});
