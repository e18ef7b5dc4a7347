// Range: key/range_end forms, limit/more/count, historical reads and their errors,
// sorting, filters, keys_only, count_only.
import { CompactedError, FutureRevisionError, type MvccStore, type RangeRequest, SortOrder, SortTarget } from '../src';
import { TempStores, b, s } from './helpers';

const temps = new TempStores();
let store: MvccStore;

// rev 2 a=1 | 3 b=22 | 4 c/1=3 | 5 c/2=0 | 6 a=5 (version 2) | 7 d=d | 8 delete d | 9 z=9
// (an empty store is at revision 1, as in etcd, so the first write is revision 2)
beforeAll(async () => {
  store = await temps.open();
  await store.put({ key: b('a'), value: b('1') });
  await store.put({ key: b('b'), value: b('22') });
  await store.put({ key: b('c/1'), value: b('3') });
  await store.put({ key: b('c/2'), value: b('0') });
  await store.put({ key: b('a'), value: b('5') });
  await store.put({ key: b('d'), value: b('d') });
  await store.deleteRange({ key: b('d') });
  await store.put({ key: b('z'), value: b('9') });
});
afterAll(() => temps.cleanup());

const keys = async (request: RangeRequest) => (await store.range(request)).kvs.map((kv) => s(kv.key));

test('range_end forms: single key, interval, prefix, from key on, everything', async () => {
  expect(await keys({ key: b('a') })).toEqual(['a']);
  expect(await keys({ key: b('a'), rangeEnd: b('c') })).toEqual(['a', 'b']);
  expect(await keys({ key: b('c/'), rangeEnd: b('c0') })).toEqual(['c/1', 'c/2']);
  expect(await keys({ key: b('c'), rangeEnd: Buffer.from([0]) })).toEqual(['c/1', 'c/2', 'z']);
  expect(await keys({ key: Buffer.from([0]), rangeEnd: Buffer.from([0]) })).toEqual(['a', 'b', 'c/1', 'c/2', 'z']);
  expect(await keys({ key: b('c'), rangeEnd: b('a') })).toEqual([]);
  expect(await keys({ key: b('d') })).toEqual([]);
});

test('limit sets more; count ignores the limit; header revision is the current one', async () => {
  const all = { key: Buffer.from([0]), rangeEnd: Buffer.from([0]) };
  const limited = await store.range({ ...all, limit: 2 });
  expect(limited.kvs.map((kv) => s(kv.key))).toEqual(['a', 'b']);
  expect(limited).toMatchObject({ more: true, count: 5, revision: 9 });
  expect(await store.range({ ...all, limit: 5 })).toMatchObject({ more: false, count: 5 });
});

test('historical reads, and the compacted / future errors', async () => {
  const at = async (revision: number) => (await store.range({ key: b('a'), revision })).kvs.map((kv) => [s(kv.value), kv.version, kv.modRevision]);
  expect(await at(5)).toEqual([['1', 1, 2]]);
  expect(await at(6)).toEqual([['5', 2, 6]]);
  expect(await keys({ key: b('d'), revision: 7 })).toEqual(['d']);
  expect(await keys({ key: b('d'), revision: 8 })).toEqual([]);
  await expect(store.range({ key: b('a'), revision: 10 })).rejects.toThrow(FutureRevisionError);
  await expect(store.range({ key: b('a'), revision: 10 })).rejects.toThrow('etcdserver: mvcc: required revision is a future revision');
});

test('sort targets and orders (NONE with a non-key target sorts ascending)', async () => {
  const all = { key: Buffer.from([0]), rangeEnd: Buffer.from([0]) };
  expect(await keys({ ...all, sortOrder: SortOrder.DESCEND })).toEqual(['z', 'c/2', 'c/1', 'b', 'a']);
  expect(await keys({ ...all, sortTarget: SortTarget.VALUE })).toEqual(['c/2', 'b', 'c/1', 'a', 'z']);
  expect(await keys({ ...all, sortTarget: SortTarget.VALUE, sortOrder: SortOrder.DESCEND, limit: 2 })).toEqual(['z', 'a']);
  expect(await keys({ ...all, sortTarget: SortTarget.MOD, sortOrder: SortOrder.DESCEND })).toEqual(['z', 'a', 'c/2', 'c/1', 'b']);
  expect(await keys({ ...all, sortTarget: SortTarget.CREATE, sortOrder: SortOrder.ASCEND })).toEqual(['a', 'b', 'c/1', 'c/2', 'z']);
  // Ties (version 1 for all but a) keep ascending key order in both directions, as etcd's.
  expect(await keys({ ...all, sortTarget: SortTarget.VERSION, sortOrder: SortOrder.ASCEND })).toEqual(['b', 'c/1', 'c/2', 'z', 'a']);
  expect(await keys({ ...all, sortTarget: SortTarget.VERSION, sortOrder: SortOrder.DESCEND })).toEqual(['a', 'b', 'c/1', 'c/2', 'z']);
});

test('min/max mod and create revision filters apply after count, before limit', async () => {
  const all = { key: Buffer.from([0]), rangeEnd: Buffer.from([0]) };
  const filtered = await store.range({ ...all, minModRevision: 4, maxModRevision: 6 });
  expect(filtered.kvs.map((kv) => s(kv.key))).toEqual(['a', 'c/1', 'c/2']);
  expect(filtered.count).toBe(5);
  expect(await keys({ ...all, minCreateRevision: 3, maxCreateRevision: 4 })).toEqual(['b', 'c/1']);
  const limited = await store.range({ ...all, minCreateRevision: 3, limit: 2 });
  expect(limited.kvs.map((kv) => s(kv.key))).toEqual(['b', 'c/1']);
  expect(limited.more).toBe(true);
});

test('keys_only blanks values; count_only returns only the count', async () => {
  const keysOnly = await store.range({ key: b('a'), rangeEnd: b('c'), keysOnly: true });
  expect(keysOnly.kvs.map((kv) => [s(kv.key), kv.value.length, kv.version])).toEqual([
    ['a', 0, 2],
    ['b', 0, 1],
  ]);
  const counted = await store.range({ key: Buffer.from([0]), rangeEnd: Buffer.from([0]), countOnly: true, limit: 1 });
  expect(counted).toEqual({ kvs: [], more: false, count: 5, revision: 9 });
});

test('a read at the compact revision works, below it fails', async () => {
  const other = await temps.open();
  await other.put({ key: b('k'), value: b('1') });
  await other.put({ key: b('k'), value: b('2') });
  await other.put({ key: b('k'), value: b('3') });
  await (await other.compact(3)).physical;
  expect((await other.range({ key: b('k'), revision: 3 })).kvs.map((kv) => s(kv.value))).toEqual(['2']);
  await expect(other.range({ key: b('k'), revision: 2 })).rejects.toThrow(CompactedError);
  await expect(other.range({ key: b('k'), revision: 2 })).rejects.toThrow('etcdserver: mvcc: required revision has been compacted');
});

describe('rangePages', () => {
  const all = { key: Buffer.from([0]), rangeEnd: Buffer.from([0]) };
  const requests: RangeRequest[] = [
    all,
    { ...all, limit: 3 },
    { ...all, keysOnly: true },
    { ...all, countOnly: true },
    { ...all, sortTarget: SortTarget.MOD, sortOrder: SortOrder.DESCEND, limit: 4 },
    { ...all, sortTarget: SortTarget.VALUE, sortOrder: SortOrder.ASCEND },
    { ...all, minModRevision: 3, revision: 6 },
    { key: b('c/'), rangeEnd: b('c0') },
    { key: b('nothing') },
  ];

  test.each(requests.map((request, i) => [i, request] as const))('request %i: pages concatenated equal range()', async (_, request) => {
    const whole = await store.range(request);
    const paged = await store.rangePages(request, 2);
    const pages: string[][] = [];
    for await (const page of paged.pages) {
      expect(page.length).toBeLessThanOrEqual(2);
      expect(page.length).toBeGreaterThan(0);
      pages.push(page.map((kv) => `${s(kv.key)}=${s(kv.value)}@${kv.modRevision}`));
    }
    expect(pages.flat()).toEqual(whole.kvs.map((kv) => `${s(kv.key)}=${s(kv.value)}@${kv.modRevision}`));
    expect({ count: paged.count, more: paged.more, revision: paged.revision }).toEqual({
      count: whole.count,
      more: whole.more,
      revision: whole.revision,
    });
  });

  test('refuses what range() refuses, before any page', async () => {
    await expect(store.rangePages({ ...all, revision: 100 })).rejects.toThrow(FutureRevisionError);
  });
});
