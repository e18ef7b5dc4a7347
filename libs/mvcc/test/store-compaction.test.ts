// Compaction (index + physical deletion, errors, resuming after a crash), the hashes,
// and history reads for watchers (readEvents, prevKvOf, onCompacted).
import { CompactedError, EventType, FutureRevisionError, KeySpaces, type MvccStore } from '../src';
import { encodeU64, metaDbKey } from '../src/keyspaces';
import { Rocks } from '../src/rocks';
import { TempStores, b, s } from './helpers';

const temps = new TempStores();
afterAll(() => temps.cleanup());

async function historyRevisions(store: MvccStore): Promise<string[]> {
  const revisions: string[] = [];
  for await (const [key] of store.scanRaw(KeySpaces.history)) revisions.push(`${key.readBigUInt64BE(0)}.${key.readBigUInt64BE(9)}`);
  return revisions;
}

/** rev 2 a=1 | 3 a=2 | 4 b=1 | 5 delete b | 6 c=1 | 7 a=3 (an empty store is at revision 1) */
async function seeded(dir?: string): Promise<MvccStore> {
  const store = await temps.open(dir);
  await store.put({ key: b('a'), value: b('1') });
  await store.put({ key: b('a'), value: b('2') });
  await store.put({ key: b('b'), value: b('1') });
  await store.deleteRange({ key: b('b') });
  await store.put({ key: b('c'), value: b('1') });
  await store.put({ key: b('a'), value: b('3') });
  return store;
}

test('compaction keeps the newest version <= rev of each key unless it is a tombstone', async () => {
  const store = await seeded();
  const compacted: number[] = [];
  store.onCompacted((revision) => void compacted.push(revision));
  const result = await store.compact(6);
  expect(result.revision).toBe(6);
  await result.physical;
  expect(compacted).toEqual([6]);
  expect(await historyRevisions(store)).toEqual(['3.0', '6.0', '7.0']);
  const atFive = await store.range({ key: b('a'), rangeEnd: b('z'), revision: 6 });
  expect(atFive.kvs.map((kv) => `${s(kv.key)}=${s(kv.value)} v${kv.version}`)).toEqual(['a=2 v2', 'c=1 v1']);
  expect((await store.range({ key: b('a') })).kvs[0]).toMatchObject({ version: 3, createRevision: 2 });
});

test('compaction errors: at or below the compact revision, or in the future', async () => {
  const store = await seeded();
  await store.compact(4);
  await expect(store.compact(4)).rejects.toThrow(new CompactedError());
  await expect(store.compact(3)).rejects.toThrow('etcdserver: mvcc: required revision has been compacted');
  await expect(store.compact(8)).rejects.toThrow(new FutureRevisionError());
  expect(store.compactRevision()).toBe(4);
});

test('compaction state and history survive reopening', async () => {
  const dir = temps.dir();
  const store = await seeded(dir);
  await (await store.compact(5)).physical;
  await store.close();
  const reopened = await temps.open(dir);
  expect([reopened.currentRevision(), reopened.compactRevision()]).toEqual([7, 5]);
  await expect(reopened.range({ key: b('a'), revision: 4 })).rejects.toThrow(CompactedError);
  expect((await reopened.range({ key: b('b'), revision: 5 })).kvs).toEqual([]);
  expect((await reopened.range({ key: b('a'), revision: 5 })).kvs.map((kv) => s(kv.value))).toEqual(['2']);
});

test('the current revision survives compacting away every record that carried it', async () => {
  const dir = temps.dir();
  const store = await temps.open(dir);
  await store.put({ key: b('a') });
  await store.deleteRange({ key: b('a') });
  await (await store.compact(3)).physical;
  expect(await historyRevisions(store)).toEqual([]);
  await store.close();
  const reopened = await temps.open(dir);
  expect(reopened.currentRevision()).toBe(3);
  expect((await reopened.put({ key: b('a') })).revision).toBe(4);
});

test('a compaction interrupted after its schedule was committed resumes on open', async () => {
  const dir = temps.dir();
  const store = await seeded(dir);
  await store.close();
  // Simulate a crash right after the batch that scheduled compaction at 6 was written.
  const rocks = await Rocks.open(dir);
  await rocks.write([{ type: 'put', key: metaDbKey('scheduledCompactRevision'), value: encodeU64(6) }], true);
  await rocks.close();
  const reopened = await temps.open(dir, { compactionBatchSize: 1 });
  expect(reopened.compactRevision()).toBe(6);
  await reopened.compactionsSettled();
  expect(await historyRevisions(reopened)).toEqual(['3.0', '6.0', '7.0']);
  expect(s((await reopened.getRaw(KeySpaces.meta, Buffer.from('finished_compact_revision')))!)).toBe(s(encodeU64(6)));
});

test('writes interleave with a running physical compaction and stay correct', async () => {
  const store = await temps.open(undefined, { compactionBatchSize: 3 });
  const batch = await store.beginBatch();
  for (let i = 0; i < 60; i++) await batch.put({ key: b(`k${i % 6}`), value: b(`${i}`) });
  await batch.commit();
  const { physical } = await store.compact(51);
  for (let i = 0; i < 10; i++) await store.put({ key: b(`k${i % 6}`), value: b(`late${i}`) });
  await physical;
  const now = await store.range({ key: b('k'), rangeEnd: b('l') });
  expect(now.kvs.map((kv) => s(kv.value))).toEqual(['late6', 'late7', 'late8', 'late9', 'late4', 'late5']);
  const atCompaction = await store.range({ key: b('k'), rangeEnd: b('l'), revision: 51 });
  expect(atCompaction.kvs.map((kv) => s(kv.value))).toEqual(['48', '49', '44', '45', '46', '47']);
  expect((await historyRevisions(store)).length).toBe(6 + 10 + 10);
});

describe('hashes', () => {
  test('hashKV is deterministic, sensitive to data, and bounded by its revision', async () => {
    const one = await seeded();
    const two = await seeded();
    const [h1, h2] = [await one.hashKV(0), await two.hashKV(0)];
    expect(h1).toEqual(h2);
    expect(h1).toMatchObject({ revision: 7, compactRevision: 0 });
    const atFive = await one.hashKV(6);
    await one.put({ key: b('late') });
    expect(await one.hashKV(6)).toEqual(atFive);
    expect((await one.hashKV(0)).hash).not.toBe(h1.hash);
    await two.put({ key: b('late'), value: b('different') });
    expect((await two.hashKV(8)).hash).not.toBe((await one.hashKV(8)).hash);
  });

  test('hashKV after compaction does not depend on physical progress', async () => {
    const dir = temps.dir();
    const done = await seeded();
    await (await done.compact(5)).physical;
    // Same state, but physical deletion never ran (crash right after scheduling): the
    // reopened store hashes before its resumed compaction touches anything... or after;
    // either way the result must match.
    const pending = await seeded(dir);
    await pending.close();
    const rocks = await Rocks.open(dir);
    await rocks.write([{ type: 'put', key: metaDbKey('scheduledCompactRevision'), value: encodeU64(5) }], true);
    await rocks.close();
    const reopened = await temps.open(dir);
    expect(await reopened.hashKV(7)).toEqual(await done.hashKV(7));
    expect(await reopened.hashKV(7)).toMatchObject({ compactRevision: 5 });
    await expect(done.hashKV(5)).rejects.toThrow(CompactedError);
    await expect(done.hashKV(8)).rejects.toThrow(FutureRevisionError);
  });

  test('two members with the same history agree on hashKV while one is still deleting compacted records', async () => {
    /** 300 writes over 12 keys (overwrites, deletes, a txn), identical on every store. */
    const history = async (store: MvccStore): Promise<void> => {
      for (let i = 0; i < 300; i++) {
        const key = b(`k${i % 12}`);
        if (i % 7 === 3) await store.deleteRange({ key });
        else if (i % 11 === 5) await store.txn({ success: [{ put: { key, value: b(`t${i}`) } }, { put: { key: b(`x${i % 5}`) } }] });
        else await store.put({ key, value: b(`v${i}`) });
      }
    };
    const done = await temps.open();
    const slow = await temps.open(temps.dir(), { compactionBatchSize: 1 });
    await Promise.all([history(done), history(slow)]);
    await (await done.compact(250)).physical;
    const expected = await done.hashKV(0);
    // Observe the physical deletion's RocksDB writes (the real writes still happen): it
    // deletes one record per batch here and yields a turn after each, so polling a turn at a
    // time finds it started and far from done.
    const write = Rocks.prototype.write;
    let deleteWrites = 0;
    const spy = jest.spyOn(Rocks.prototype, 'write').mockImplementation(function (this: Rocks, ops, sync) {
      if (ops.some((op) => op.type === 'del')) deleteWrites++;
      return write.call(this, ops, sync);
    });
    let deletionsHalfDone = false;
    const seen: unknown[] = [];
    try {
      const { physical } = await slow.compact(250);
      let settled = false;
      void physical.then(() => (settled = true));
      while (deleteWrites === 0 && !settled) await new Promise((resolve) => setImmediate(resolve));
      deletionsHalfDone = deleteWrites > 0 && !settled;
      seen.push(await slow.hashKV(0)); // its scan starts before the next turn
      await physical;
    } finally {
      spy.mockRestore();
    }
    seen.push(await slow.hashKV(0));
    expect(deletionsHalfDone).toBe(true); // the first hash ran with deletions half done
    for (const result of seen) expect(result).toEqual(expected);
    expect(await slow.hashKV(280)).toEqual(await done.hashKV(280));
    expect(await slow.hash()).toEqual(await done.hash()); // hash() waits for physical compaction
  });

  test('hash covers the whole history space', async () => {
    const store = await seeded();
    const before = await store.hash();
    expect(before.revision).toBe(7);
    expect(await store.hash()).toEqual(before);
    await (await store.compact(6)).physical;
    expect((await store.hash()).hash).not.toBe(before.hash);
  });
});

describe('history for watchers', () => {
  const all = { key: Buffer.from([0]), rangeEnd: Buffer.from([0]) };

  test('readEvents filters by range, keeps revision order, and never splits a revision', async () => {
    const store = await temps.open();
    await store.put({ key: b('a'), value: b('1') });
    await store.txn({ success: [{ put: { key: b('a'), value: b('2') } }, { put: { key: b('b') } }, { put: { key: b('c') } }] });
    await store.deleteRange({ key: b('a') });
    await store.put({ key: b('x') });
    const events = await store.readEvents(2, 5, all, 100);
    expect(events.events.map((e) => `${e.type === EventType.PUT ? 'put' : 'del'} ${s(e.kv.key)}@${e.kv.modRevision}`)).toEqual([
      'put a@2',
      'put a@3',
      'put b@3',
      'put c@3',
      'del a@4',
      'put x@5',
    ]);
    expect(events.nextRevision).toBe(6);
    const limited = await store.readEvents(2, 5, all, 2);
    expect(limited.events).toHaveLength(4);
    expect(limited.nextRevision).toBe(4);
    const onlyA = await store.readEvents(3, 5, { key: b('a') }, 100);
    expect(onlyA.events.map((e) => e.kv.modRevision)).toEqual([3, 4]);
    const deleted = onlyA.events[1]!;
    expect(deleted.kv).toMatchObject({ createRevision: 0, version: 0, lease: 0n, value: Buffer.alloc(0) });
  });

  test('readEvents attaches prevKv when asked; prevKvOf finds the version before', async () => {
    const store = await temps.open();
    await store.put({ key: b('a'), value: b('1') });
    await store.put({ key: b('a'), value: b('2') });
    await store.deleteRange({ key: b('a') });
    await store.put({ key: b('a'), value: b('3') });
    const { events } = await store.readEvents(2, 5, { key: b('a') }, 100, { withPrevKv: true });
    expect(events.map((e) => e.prevKv && s(e.prevKv.value))).toEqual([undefined, '1', '2', undefined]);
    expect(await store.prevKvOf(events[1]!.kv)).toMatchObject({ modRevision: 2, version: 1 });
  });

  test('readEvents refuses compacted and future revisions but reads from the compact revision itself', async () => {
    const store = await seeded();
    await store.compact(4);
    await expect(store.readEvents(3, 7, all, 10)).rejects.toThrow(CompactedError);
    // Revision 4 (put b=1) is b's newest version at or below 4, so it survives, and a
    // watch may start there as on etcd.
    expect((await store.readEvents(4, 7, all, 10)).events.map((e) => e.kv.modRevision)).toEqual([4, 5, 6, 7]);
    await expect(store.readEvents(5, 8, all, 10)).rejects.toThrow(FutureRevisionError);
    expect((await store.readEvents(5, 7, all, 10)).events.map((e) => e.kv.modRevision)).toEqual([5, 6, 7]);
  });
});
