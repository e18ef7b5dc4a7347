// defragment(): rewrites the database to its live data, keeps serving, survives crashes.
import { randomBytes } from 'node:crypto';
import { existsSync, renameSync } from 'node:fs';
import { type MvccStore } from '../src';
import { TempStores, b, s } from './helpers';

const temps = new TempStores();
afterAll(() => temps.cleanup());

async function fill(store: MvccStore, keys: number, bytes: number): Promise<void> {
  const batch = await store.beginBatch();
  for (let i = 0; i < keys; i++) await batch.put({ key: b(`key-${i}`), value: randomBytes(bytes) });
  await batch.commit({ appliedIndex: 9, term: 2 });
}

test('defragment shrinks the files to the live data and keeps every live key', async () => {
  const dir = temps.dir();
  const store = await temps.open(dir);
  await fill(store, 400, 2000);
  await store.deleteRange({ key: b('key-1'), rangeEnd: b('key-9') });
  await store.put({ key: b('keep'), value: b('me') });
  await (await store.compact(store.currentRevision())).physical;
  const before = store.diskSizeBytes();
  const reading = store.range({ key: b('keep') });
  await store.defragment();
  expect((await reading).kvs.map((kv) => s(kv.value))).toEqual(['me']);
  expect(store.diskSizeBytes()).toBeLessThan(before);
  const live = await store.range({ key: Buffer.from([0]), rangeEnd: Buffer.from([0]), countOnly: true });
  expect(live.count).toBe(1 + 1 + 11); // key-0, key-9, key-90..key-99 survive; plus keep
  await store.put({ key: b('after'), value: b('defrag') });
  await store.close();
  const reopened = await temps.open(dir);
  expect([reopened.appliedIndex(), reopened.term(), reopened.currentRevision()]).toEqual([9, 2, store.currentRevision()]);
  expect((await reopened.range({ key: b('after') })).kvs.map((kv) => s(kv.value))).toEqual(['defrag']);
});

test('open finishes or undoes a defragment interrupted mid-swap', async () => {
  const dir = temps.dir();
  const store = await temps.open(dir);
  await fill(store, 10, 10);
  await store.close();
  // Crash after the original was moved aside but before the copy was moved in.
  renameSync(dir, `${dir}.defrag-old`);
  const reopened = await temps.open(dir);
  expect((await reopened.range({ key: b('key-3') })).kvs).toHaveLength(1);
  expect(existsSync(`${dir}.defrag-old`)).toBe(false);
});
