// The store's dbSizeBytes/dbSizeInUse: etcd's bbolt figures for the same writes (the model in
// src/backend-size is checked against real bbolt there; here: the store feeds it the right
// writes at the right times, and keeps its high-water mark across restarts).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MvccStore } from '../src';
import { TempStores, b } from './helpers';

const temps = new TempStores();
afterAll(() => temps.cleanup());

const MIB = 1024 * 1024;
const PAGE = 4096;

interface Fixture {
  figures: Array<[number, number, number]>;
}

/** The fixture's figures after each commit, expanded, as [size, inUse] bytes. */
function bboltFigures(name: string): Array<[number, number]> {
  const path = join(__dirname, '../src/backend-size/fixtures', `${name}.json`);
  const fixture = JSON.parse(readFileSync(path, 'utf8')) as Fixture;
  return fixture.figures.flatMap(([repeat, size, inUse]) => Array.from({ length: repeat }, (): [number, number] => [size * PAGE, inUse * PAGE]));
}

const figures = (store: MvccStore): [number, number] => [store.dbSizeBytes(), store.dbSizeInUse()];

test('a fresh store, `put k v1`, then 1 MiB puts: the sizes real bbolt (and etcd 3.4.23) reported', async () => {
  const store = await temps.open(undefined, { backendBatchIntervalMs: 0 });
  const seen = [figures(store)];
  await store.put({ key: b('k'), value: b('v1') });
  seen.push(figures(store));
  for (let i = 0; i < 9; i++) {
    await store.put({ key: b('key'), value: randomBytes(MIB) });
    seen.push(figures(store));
  }
  // bbolt's figures start with the two bootstrap commits; the store starts after them.
  expect(seen).toEqual(bboltFigures('paced-1mib').slice(1));
  expect(seen.map(([size]) => size).slice(1)).toEqual([20480, 1073152, 3174400, 6324224, 9474048, 9474048, 12623872, 12623872, 15773696, 15773696]);
});

test('compaction deletes and defrag shrink the size as on etcd', async () => {
  const store = await temps.open(undefined, { backendBatchIntervalMs: 0 });
  const seen = [figures(store)];
  await store.put({ key: b('k'), value: b('v1') });
  seen.push(figures(store));
  for (let i = 0; i < 8; i++) {
    await store.put({ key: b('key'), value: randomBytes(MIB) });
    seen.push(figures(store));
  }
  await store.defragment();
  seen.push(figures(store));
  const compaction = await store.compact(store.currentRevision());
  seen.push(figures(store));
  await compaction.physical;
  seen.push(figures(store));
  await store.defragment();
  seen.push(figures(store));
  await store.put({ key: b('k'), value: b('v2') });
  seen.push(figures(store));
  expect(seen).toEqual(bboltFigures('paced-1mib-compact-defrag').slice(1));
});

test('writes count once the backend commits, 100 ms later by default (etcd batch interval)', async () => {
  const store = await temps.open();
  const fresh = store.dbSizeBytes();
  await store.put({ key: b('big'), value: randomBytes(MIB) });
  expect(store.dbSizeBytes()).toBe(fresh);
  await new Promise((resolve) => setTimeout(resolve, 250));
  expect(store.dbSizeBytes()).toBe(1073152);
});

test('a restart keeps the high-water mark; the rebuilt tree decides what is in use', async () => {
  const dir = temps.dir();
  const store = await temps.open(dir, { backendBatchIntervalMs: 0 });
  for (let i = 0; i < 4; i++) await store.put({ key: b('key'), value: randomBytes(MIB) });
  const [size, inUse] = figures(store);
  expect(size).toBeGreaterThan(inUse); // copy-on-write left free pages behind
  await store.close();
  const reopened = await temps.open(dir, { backendBatchIntervalMs: 0 });
  expect(reopened.dbSizeBytes()).toBe(size);
  // Four 1 MiB revisions (257 pages each) plus meta pages, root page and branch: compact.
  const [, rebuiltInUse] = figures(reopened);
  expect(rebuiltInUse).toBeLessThanOrEqual(inUse);
  expect(rebuiltInUse).toBeGreaterThanOrEqual(4 * 257 * PAGE);
  // Growth continues from the kept mark.
  await reopened.put({ key: b('key'), value: randomBytes(MIB) });
  expect(reopened.dbSizeBytes()).toBeGreaterThanOrEqual(size);
});

test('the sizes are in memory: reading them costs no I/O and stays cheap', async () => {
  const store = await temps.open(undefined, { backendBatchIntervalMs: 0 });
  const batch = await store.beginBatch();
  for (let i = 0; i < 2000; i++) await batch.put({ key: b(`key-${i}`), value: randomBytes(100) });
  await batch.commit();
  expect(store.dbSizeBytes()).toBeGreaterThan(20480);
  const started = process.hrtime.bigint();
  for (let i = 0; i < 100_000; i++) store.dbSizeBytes();
  expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(200);
});

interface ScriptStep {
  op: string;
  count?: number;
  keys?: number;
  keyBytes?: number;
  valueBytes?: number;
  perCommit?: number;
  behind?: number;
}

/** Runs a bbolt reference script (puts, deletes, compactions, defrags) through the store itself. */
async function replayThroughStore(store: MvccStore, steps: readonly ScriptStep[]): Promise<void> {
  for (const step of steps) {
    if (step.op === 'puts' || step.op === 'deletes') {
      const count = step.count ?? 0;
      for (let done = 0; done < count; ) {
        const batch = await store.beginBatch();
        for (let i = 0; i < (step.perCommit ?? 1) && done < count; i++, done++) {
          const key = b('k' + String(done % (step.keys ?? 1)).padStart((step.keyBytes ?? 1) - 1, '0'));
          if (step.op === 'puts') await batch.put({ key, value: randomBytes(step.valueBytes ?? 0) });
          else await batch.deleteRange({ key });
        }
        await batch.commit();
      }
    } else if (step.op === 'compact') {
      await (await store.compact(store.currentRevision() - (step.behind ?? 0))).physical;
    } else if (step.op === 'defrag') {
      await store.defragment();
    } else {
      throw new Error(`no store replay for ${step.op}`);
    }
  }
}

test.each(['compact-then-puts', 'compact-keeps-tail', 'defrag', 'mixed-sizes-and-tombstones', 'deep-tree-compact'])(
  'the store, fed the %s script, ends with the figures real bbolt ended with',
  async (name) => {
    const path = join(__dirname, '../src/backend-size/fixtures', `${name}.json`);
    const { steps } = JSON.parse(readFileSync(path, 'utf8')) as { steps: ScriptStep[] };
    const store = await temps.open(undefined, { backendBatchIntervalMs: 0 });
    await replayThroughStore(store, steps);
    expect(figures(store)).toEqual(bboltFigures(name).at(-1));
  },
  30_000,
);

test("defragmentBackendSize shrinks the reported sizes as etcd's defrag, leaving RocksDB alone", async () => {
  const store = await temps.open(undefined, { backendBatchIntervalMs: 0 });
  const other = await temps.open(undefined, { backendBatchIntervalMs: 0 });
  for (const target of [store, other]) {
    await target.put({ key: b('k'), value: b('v1') });
    for (let i = 0; i < 5; i++) await target.put({ key: b('key'), value: randomBytes(MIB) });
    await (await target.compact(target.currentRevision())).physical;
  }
  const diskBefore = store.diskSizeBytes();
  await store.defragmentBackendSize();
  await other.defragment();
  expect(figures(store)).toEqual(figures(other));
  expect(store.dbSizeBytes()).toBeLessThan(3 * 257 * PAGE); // two live revisions: k and one 1 MiB key
  expect(store.diskSizeBytes()).toBeGreaterThanOrEqual(diskBefore); // nothing rewritten
});
