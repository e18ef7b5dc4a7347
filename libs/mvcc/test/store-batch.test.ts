// Group apply: many ops in one RocksDB batch, each with its own revision and result;
// meta committed with the data; visibility only after commit; raw key spaces.
import { type Event, EventType, KeySpaces, MetaKey, StoreClosedError, encodeId } from '../src';
import { TempStores, b, s } from './helpers';

const temps = new TempStores();
afterAll(() => temps.cleanup());

test('each op of a batch gets its own revision; a failing op changes nothing', async () => {
  const store = await temps.open();
  const batch = await store.beginBatch();
  expect((await batch.put({ key: b('a'), value: b('1') })).revision).toBe(2);
  await expect(batch.put({ key: b('missing'), ignoreValue: true })).rejects.toThrow('etcdserver: key not found');
  expect((await batch.txn({ success: [{ put: { key: b('b') } }, { put: { key: b('c') } }] })).revision).toBe(3);
  expect((await batch.deleteRange({ key: b('a') })).revision).toBe(4);
  expect(batch.currentRevision()).toBe(4);
  // Reads through the batch see its writes; reads through the store do not, yet.
  expect((await batch.range({ key: b('b') })).kvs).toHaveLength(1);
  expect((await store.range({ key: b('b') })).kvs).toHaveLength(0);
  expect(store.currentRevision()).toBe(1);
  await batch.commit({ appliedIndex: 42, term: 3 });
  expect(store.currentRevision()).toBe(4);
  expect((await store.range({ key: b('b') })).kvs.map((kv) => kv.modRevision)).toEqual([3]);
});

test('listeners get every event of a batch once, in revision order, after commit', async () => {
  const store = await temps.open();
  const calls: Array<[string[], number]> = [];
  const unsubscribe = store.onCommitted((events: readonly Event[], revision) =>
    calls.push([events.map((e) => `${e.type === EventType.PUT ? 'put' : 'del'} ${s(e.kv.key)}@${e.kv.modRevision}`), revision]),
  );
  const batch = await store.beginBatch();
  await batch.put({ key: b('a') });
  await batch.txn({ success: [{ put: { key: b('b') } }, { deleteRange: { key: b('a') } }] });
  expect(calls).toEqual([]);
  await batch.commit();
  expect(calls).toEqual([[['put a@2', 'put b@3', 'del a@3'], 3]]);
  // A batch with only meta or raw writes calls nobody.
  const metaOnly = await store.beginBatch();
  metaOnly.rawPut(KeySpaces.alarms, Buffer.from([1]), Buffer.from([2]));
  await metaOnly.commit({ appliedIndex: 5, term: 1 });
  expect(calls).toHaveLength(1);
  unsubscribe();
  await store.put({ key: b('c') });
  expect(calls).toHaveLength(1);
});

test('applied index and term are committed with the data and survive reopening', async () => {
  const dir = temps.dir();
  const store = await temps.open(dir);
  expect([store.appliedIndex(), store.term()]).toEqual([0, 0]);
  const batch = await store.beginBatch();
  await batch.put({ key: b('k'), value: b('v') });
  await batch.commit({ appliedIndex: 17, term: 4 });
  // A second batch left open when the store closes is abandoned: neither data nor meta lands.
  const abandoned = await store.beginBatch();
  await abandoned.put({ key: b('lost') });
  await store.close();
  await expect(abandoned.commit({ appliedIndex: 18, term: 4 })).rejects.toThrow(StoreClosedError);
  const reopened = await temps.open(dir);
  expect([reopened.appliedIndex(), reopened.term(), reopened.currentRevision()]).toEqual([17, 4, 2]);
  expect((await reopened.range({ key: b('lost') })).kvs).toEqual([]);
});

test('batches run one after another: beginBatch waits for the previous commit', async () => {
  const store = await temps.open();
  const first = await store.beginBatch();
  let secondStarted = false;
  const second = store.beginBatch().then((batch) => {
    secondStarted = true;
    return batch;
  });
  await first.put({ key: b('a') });
  await new Promise((resolve) => setImmediate(resolve));
  expect(secondStarted).toBe(false);
  await first.commit();
  const next = await second;
  expect((await next.put({ key: b('b') })).revision).toBe(3);
  await next.commit();
});

test('reads that start while a batch holds them wait for its commit and see its writes', async () => {
  const store = await temps.open();
  await store.put({ key: b('a'), value: b('old') });
  const batch = await store.beginBatch();
  await batch.put({ key: b('a'), value: b('new') });
  batch.rawPut(KeySpaces.alarms, Buffer.from([1]), Buffer.from([2]));
  // A read already running when the hold starts finishes on the state before the batch.
  const before = store.range({ key: b('a') });
  batch.holdReadsUntilCommit();
  const settled: string[] = [];
  const range = store.range({ key: b('a') }).then((r) => (settled.push('range'), r));
  const raw = store.getRaw(KeySpaces.alarms, Buffer.from([1])).then((v) => (settled.push('raw'), v));
  const events = store.readEvents(3, 3, { key: b('a') }, 10).then((r) => (settled.push('events'), r));
  expect((await before).kvs.map((kv) => s(kv.value))).toEqual(['old']);
  await new Promise((resolve) => setImmediate(resolve));
  expect(settled).toEqual([]);
  await batch.commit({ appliedIndex: 3, term: 1 });
  expect((await range).kvs.map((kv) => s(kv.value))).toEqual(['new']);
  expect(await raw).toEqual(Buffer.from([2]));
  expect((await events).events.map((e) => s(e.kv.value))).toEqual(['new']);
  // The hold ends with the commit: the next read does not wait.
  expect((await store.range({ key: b('a') })).revision).toBe(3);
});

test('closing the store while a batch holds reads fails them instead of leaving them waiting', async () => {
  const store = await temps.open();
  const batch = await store.beginBatch();
  await batch.put({ key: b('a') });
  batch.holdReadsUntilCommit();
  const held = store.range({ key: b('a') });
  held.catch(() => undefined);
  await store.close();
  await expect(batch.commit()).rejects.toThrow(StoreClosedError);
  await expect(held).rejects.toThrow(StoreClosedError);
});

test('raw key spaces: written atomically with a batch, read back by key and by scan', async () => {
  const dir = temps.dir();
  const store = await temps.open(dir);
  const batch = await store.beginBatch();
  batch.rawPut(KeySpaces.leases, encodeId(2n), b('lease two'));
  batch.rawPut(KeySpaces.leases, encodeId(1n), b('lease one'));
  batch.rawPut(KeySpaces.members, encodeId(0xffff_ffff_ffff_fffen), b('member'));
  batch.setConsistentHashState(b('hash-state'));
  expect(() => batch.rawPut(KeySpaces.history, b('x'), b('y'))).toThrow(/not writable/);
  await batch.commit({ appliedIndex: 1, term: 1 });
  const reopened = await (async () => {
    await store.close();
    return temps.open(dir);
  })();
  expect(s((await reopened.getRaw(KeySpaces.leases, encodeId(1n)))!)).toBe('lease one');
  expect(s((await reopened.getRaw(KeySpaces.meta, b(MetaKey.consistentHashState)))!)).toBe('hash-state');
  const leases: string[] = [];
  for await (const [key, value] of reopened.scanRaw(KeySpaces.leases)) leases.push(`${key.readBigUInt64BE()}=${s(value)}`);
  expect(leases).toEqual(['1=lease one', '2=lease two']);
  const deleting = await reopened.beginBatch();
  deleting.rawDelete(KeySpaces.leases, encodeId(1n));
  await deleting.commit();
  expect(await reopened.getRaw(KeySpaces.leases, encodeId(1n))).toBeUndefined();
  expect(s((await reopened.getRaw(KeySpaces.members, encodeId(0xffff_ffff_ffff_fffen)))!)).toBe('member');
});

test('disk size accounting reports the files on disk', async () => {
  const store = await temps.open();
  const before = store.diskSizeBytes();
  expect(before).toBeGreaterThan(0);
  const batch = await store.beginBatch();
  for (let i = 0; i < 200; i++) await batch.put({ key: b(`key-${i}`), value: Buffer.alloc(1000, i) });
  await batch.commit();
  expect(store.diskSizeBytes()).toBeGreaterThan(before);
  expect(store.diskLiveBytes()).toBeGreaterThan(0);
});
