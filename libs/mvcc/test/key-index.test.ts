// The worked example from key-index.ts, step by step, plus the rebuild path.
import fc from 'fast-check';
import { createKeyIndex, type KeyIndex } from '../src';

const foo = Buffer.from('foo');
const rev = (main: number, sub = 0) => ({ main, sub });

function example(): KeyIndex {
  const index = createKeyIndex();
  index.put(foo, rev(1), 0n);
  index.put(foo, rev(2), 0n);
  index.tombstone(foo, rev(3));
  index.put(foo, rev(5), 0n);
  index.put(foo, rev(6, 1), 7n);
  return index;
}

const view = (index: KeyIndex, atRev: number) => {
  const found = index.get(foo, atRev);
  return found && { mod: `${found.revision.main}.${found.revision.sub}`, version: found.version, create: found.createRevision, lease: found.lease };
};

test('reads see the generation alive at the revision', () => {
  const index = example();
  expect(view(index, 0)).toBeUndefined();
  expect(view(index, 2)).toEqual({ mod: '2.0', version: 2, create: 1, lease: 0n });
  expect(view(index, 3)).toBeUndefined();
  expect(view(index, 4)).toBeUndefined();
  expect(view(index, 5)).toEqual({ mod: '5.0', version: 1, create: 5, lease: 0n });
  expect(view(index, 6)).toEqual({ mod: '6.1', version: 2, create: 5, lease: 7n });
});

test('compact(2) keeps the newest revision <= 2 and its version number', () => {
  const index = example();
  expect([...index.compact(2)]).toEqual(['2.0']);
  expect(view(index, 2)).toEqual({ mod: '2.0', version: 2, create: 1, lease: 0n });
  expect(view(index, 6)).toEqual({ mod: '6.1', version: 2, create: 5, lease: 7n });
});

test('compact(4) drops a generation that ended in a tombstone at or below it', () => {
  const index = example();
  expect(index.keep(4).size).toBe(0);
  expect([...index.compact(4)]).toEqual([]);
  expect(view(index, 4)).toBeUndefined();
  expect(view(index, 5)).toEqual({ mod: '5.0', version: 1, create: 5, lease: 0n });
});

test('compact(5) keeps the first put of the live generation', () => {
  const index = example();
  expect([...index.keep(5)]).toEqual(['5.0']);
  expect([...index.compact(5)]).toEqual(['5.0']);
  expect(view(index, 6)).toEqual({ mod: '6.1', version: 2, create: 5, lease: 7n });
});

test('a key whose history is all compacted away leaves the index', () => {
  const index = createKeyIndex();
  index.put(foo, rev(1), 0n);
  index.tombstone(foo, rev(2));
  index.put(Buffer.from('bar'), rev(3), 0n);
  expect(index.keyCount()).toBe(2);
  index.compact(3);
  expect(index.keyCount()).toBe(1);
});

test('restore rebuilds a compacted history with its stored versions', () => {
  const index = createKeyIndex();
  index.restorePut(foo, rev(5), { createRevision: 2, version: 3, lease: 0n });
  index.restorePut(foo, rev(7), { createRevision: 2, version: 4, lease: 0n });
  index.restoreTombstone(foo, rev(8));
  expect(view(index, 7)).toEqual({ mod: '7.0', version: 4, create: 2, lease: 0n });
  expect(view(index, 8)).toBeUndefined();
  expect(() => index.restorePut(foo, rev(6), { createRevision: 6, version: 1, lease: 0n })).toThrow(/not after/);
});

test('writes within one revision are ordered by sub; a write not after the last is refused', () => {
  const index = createKeyIndex();
  index.put(foo, rev(5, 0), 0n);
  index.put(foo, rev(5, 2), 0n);
  expect(() => index.put(foo, rev(5, 1), 0n)).toThrow(/index revision 5\.1 not after 5\.2/);
  expect(() => index.put(foo, rev(5, 2), 0n)).toThrow(/not after/);
  expect(() => index.tombstone(foo, rev(4, 9))).toThrow(/not after/);
  index.tombstone(foo, rev(6, 0));
  expect(view(index, 5)).toEqual({ mod: '5.2', version: 2, create: 5, lease: 0n });
  expect(view(index, 6)).toBeUndefined();
});

test('visit walks keys in order within the interval', () => {
  const index = createKeyIndex();
  for (const [i, key] of ['b', 'a', 'c', 'ab'].entries()) index.put(Buffer.from(key), rev(i + 1), 0n);
  const keys = (start: string, end: string | null | undefined) => {
    const seen: string[] = [];
    index.visit({ start: Buffer.from(start), end: typeof end === 'string' ? Buffer.from(end) : end }, 10, (v) => void seen.push(v.key.toString()));
    return seen;
  };
  expect(keys('a', 'b')).toEqual(['a', 'ab']);
  expect(keys('ab', null)).toEqual(['ab', 'b', 'c']);
  expect(keys('b', undefined)).toEqual(['b']);
});

// The index names keys by latin1 strings; these check that nothing about a key's bytes is
// lost or reordered by that: bytes above 0x7f, zero bytes, prefixes.
const hex = (key: Buffer) => key.toString('hex');

function visitedKeys(index: KeyIndex, start: Buffer, end: Buffer | null): string[] {
  const seen: string[] = [];
  index.visit({ start, end }, Number.MAX_SAFE_INTEGER, (v) => void seen.push(hex(v.key)));
  return seen;
}

test('keys are ordered and told apart by their bytes, including bytes above 0x7f', () => {
  const index = createKeyIndex();
  const raw = [[0xff], [0x80], [0x7f], [0x00], [], [0xff, 0x00], [0xc3, 0xa9], [0xe9]].map((bytes) => Buffer.from(bytes));
  for (const [i, key] of raw.entries()) index.put(key, rev(i + 1), BigInt(i));
  expect(index.keyCount()).toBe(raw.length);
  expect(visitedKeys(index, Buffer.alloc(0), null)).toEqual([...raw].sort(Buffer.compare).map(hex));
  expect(visitedKeys(index, Buffer.from([0x80]), Buffer.from([0xff]))).toEqual(['80', 'c3a9', 'e9']);
  // é as UTF-8 (c3 a9) and as latin1 (e9) are different keys.
  expect(index.get(Buffer.from([0xe9]), 100)?.lease).toBe(7n);
  expect(index.get(Buffer.from([0xc3, 0xa9]), 100)?.lease).toBe(6n);
});

test('visit and get agree with a byte-ordered model on random binary keys', () => {
  const key = fc.uint8Array({ maxLength: 4 }).map((bytes) => Buffer.from(bytes));
  fc.assert(
    fc.property(fc.array(key, { maxLength: 40 }), key, fc.option(key, { nil: null }), (keys, start, end) => {
      const index = createKeyIndex();
      keys.forEach((k, i) => index.put(k, rev(i + 1), 0n));
      const distinct = [...new Set(keys.map(hex))].map((h) => Buffer.from(h, 'hex')).sort(Buffer.compare);
      const expected = distinct.filter((k) => Buffer.compare(k, start) >= 0 && (end === null || Buffer.compare(k, end) < 0)).map(hex);
      expect(visitedKeys(index, start, end)).toEqual(expected);
      expect(index.keyCount()).toBe(distinct.length);
      for (const k of distinct) expect(index.get(k, keys.length)).toBeDefined();
    }),
  );
});

test('compaction removes emptied keys from point reads and from walks alike', () => {
  const index = createKeyIndex();
  const [a, b, c] = ['a', 'b', 'c'].map((k) => Buffer.from(k)) as [Buffer, Buffer, Buffer];
  index.put(a, rev(1), 0n);
  index.put(b, rev(2), 0n);
  index.tombstone(b, rev(3));
  index.put(c, rev(4), 0n);
  index.compact(3);
  expect(index.get(b, 10)).toBeUndefined();
  expect(visitedKeys(index, Buffer.alloc(0), null)).toEqual([hex(a), hex(c)]);
  // The key comes back as a new generation, visible to both.
  index.put(b, rev(5), 0n);
  expect(index.get(b, 10)).toMatchObject({ version: 1, createRevision: 5 });
  expect(visitedKeys(index, Buffer.alloc(0), null)).toEqual([hex(a), hex(b), hex(c)]);
});
