// Which watchers an event reaches: the interval tree against a naive list, and key,
// range, prefix and from-key watchers through the hub, including thousands at once.

import fc from 'fast-check';
import { IntervalTree } from '../src/watch/interval-tree';
import { WatchHub } from '../src/watch';
import { FakeSource } from './watch-fake-source';
import { RecordingSink, bytes } from './watch-test-sink';

describe('IntervalTree', () => {
  const key = fc.stringMatching(/^[a-e]{0,3}$/);
  const interval = fc.tuple(key, fc.option(key, { nil: null })).filter(([s, e]) => e === null || s < e);
  const op = fc.oneof(
    fc.record({ kind: fc.constant('insert' as const), interval }),
    fc.record({ kind: fc.constant('delete' as const), interval }),
    fc.record({ kind: fc.constant('stab' as const), point: key }),
  );

  it('answers stabbing queries exactly like a naive list, through inserts and deletes', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const tree = new IntervalTree<string>();
        const naive = new Map<string, [string, string | null]>();
        const id = (s: string, e: string | null): string => `${s}|${e ?? '∞'}`;
        for (const step of ops) {
          if (step.kind === 'insert') {
            const [s, e] = step.interval;
            if (tree.get(s, e) !== undefined) continue;
            tree.insert(s, e, id(s, e));
            naive.set(id(s, e), [s, e]);
          } else if (step.kind === 'delete') {
            const [s, e] = step.interval;
            expect(tree.delete(s, e)).toBe(naive.delete(id(s, e)));
          } else {
            const found: string[] = [];
            tree.stab(step.point, (v) => found.push(v));
            const expected = [...naive]
              .filter(([, [s, e]]) => s <= step.point && (e === null || step.point < e))
              .map(([k]) => k);
            expect(found.sort()).toEqual(expected.sort());
          }
          expect(tree.size).toBe(naive.size);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('refuses empty and duplicate intervals', () => {
    const tree = new IntervalTree<number>();
    expect(() => tree.insert('b', 'a', 1)).toThrow(/empty/);
    tree.insert('a', 'b', 1);
    expect(() => tree.insert('a', 'b', 2)).toThrow(/already/);
  });
});

describe('watch matching through the hub', () => {
  let source: FakeSource;
  let hub: WatchHub;
  let sink: RecordingSink;

  beforeEach(() => {
    source = new FakeSource();
    hub = new WatchHub(source, { progressIntervalMs: 0 });
    sink = new RecordingSink();
  });
  afterEach(() => hub.close());

  it('sends created first, then events for a single key only', () => {
    const stream = hub.openStream(sink);
    const id = stream.watch({ key: bytes('foo') });
    expect(sink.responses[0]).toMatchObject({ watchId: id, created: true, canceled: false, revision: 0 });
    source.put('foo');
    source.put('foo1');
    source.put('fo');
    source.del('foo');
    expect(sink.described(id)).toEqual(['PUT foo@1', 'DEL foo@4']);
    expect(sink.eventResponses(id).map((r) => r.revision)).toEqual([1, 4]);
  });

  it('matches [key, rangeEnd), prefixes and key >= from with etcd semantics', () => {
    const stream = hub.openStream(sink);
    const range = stream.watch({ key: bytes('b'), rangeEnd: bytes('d') });
    const prefix = stream.watch({ key: bytes('app/'), rangeEnd: bytes('app0') });
    const fromKey = stream.watch({ key: bytes('c'), rangeEnd: new Uint8Array([0]) });
    const all = stream.watch({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) });
    for (const key of ['a', 'b', 'bzz', 'c', 'd', 'app/x', 'app0', 'zz']) source.put(key);
    const keysOf = (id: bigint): string[] => sink.events(id).map((e) => e.kv.key.toString());
    expect(keysOf(range)).toEqual(['b', 'bzz', 'c']);
    expect(keysOf(prefix)).toEqual(['app/x']);
    expect(keysOf(fromKey)).toEqual(['c', 'd', 'zz']);
    expect(keysOf(all)).toEqual(['a', 'b', 'bzz', 'c', 'd', 'app/x', 'app0', 'zz']);
  });

  it('an empty key means "\\0": with rangeEnd "\\0" it watches every key', () => {
    const stream = hub.openStream(sink);
    const id = stream.watch({ key: new Uint8Array(0), rangeEnd: new Uint8Array([0]) });
    source.put('x');
    source.put('\u0001');
    expect(sink.events(id)).toHaveLength(2);
  });

  it('binary keys compare bytewise (0xff sorts after 0x7f)', () => {
    const stream = hub.openStream(sink);
    const id = stream.watch({ key: Buffer.from([0x7f]), rangeEnd: Buffer.from([0xff, 0x00]) });
    for (const key of ['\x7f', '\x80', '\xff', '\x7e\xff', '\xff\x00']) source.put(key);
    expect(sink.events(id).map((e) => e.kv.key.toString('latin1'))).toEqual(['\x7f', '\x80', '\xff']);
  });

  it('delivers each event to every matching watcher exactly once, among thousands', () => {
    const sinks = Array.from({ length: 10 }, () => new RecordingSink());
    const streams = sinks.map((s) => hub.openStream(s));
    const ids: Array<{ sink: RecordingSink; id: bigint; keys: (k: string) => boolean }> = [];
    for (let i = 0; i < 3000; i++) {
      const s = sinks[i % sinks.length]!;
      const stream = streams[i % streams.length]!;
      const n = String(i % 500).padStart(3, '0');
      if (i % 3 === 0) {
        ids.push({ sink: s, id: stream.watch({ key: bytes(`k${n}`) }), keys: (k) => k === `k${n}` });
      } else if (i % 3 === 1) {
        const p = `k${n.slice(0, 2)}`;
        ids.push({ sink: s, id: stream.watch({ key: bytes(p), rangeEnd: bytes(p.slice(0, -1) + String.fromCharCode(p.charCodeAt(p.length - 1) + 1)) }), keys: (k) => k.startsWith(p) });
      } else {
        ids.push({ sink: s, id: stream.watch({ key: bytes(`k${n}`), rangeEnd: new Uint8Array([0]) }), keys: (k) => k >= `k${n}` });
      }
    }
    const written: string[] = [];
    for (let i = 0; i < 200; i++) {
      const key = `k${String((i * 37) % 520).padStart(3, '0')}`;
      source.put(key);
      written.push(key);
    }
    for (const { sink: s, id, keys } of ids) {
      const got = s.events(id).map((e) => e.kv.key.toString());
      expect(got).toEqual(written.filter(keys));
    }
    expect(hub.stats().synced).toBe(3000);
  });
});
