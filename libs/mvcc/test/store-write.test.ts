// Put, DeleteRange and Txn rules: prev_kv, ignore_value/ignore_lease and their errors,
// versions and create revisions across generations, compares on every target, nested
// txns, one main revision per txn, duplicate keys, read-only txns.
import {
  type Compare,
  CompareResult,
  CompareTarget,
  DuplicateKeyError,
  type Event,
  KeyNotFoundError,
  LeaseNotFoundError,
  LeaseProvidedError,
  TooManyOpsError,
  type TxnRequest,
  ValueProvidedError,
} from '../src';
import { TempStores, b, s } from './helpers';

const temps = new TempStores();
afterAll(() => temps.cleanup());

test('put: versions count within a generation and restart after a delete', async () => {
  const store = await temps.open();
  await store.put({ key: b('k'), value: b('1') });
  await store.put({ key: b('k'), value: b('2') });
  await store.deleteRange({ key: b('k') });
  await store.put({ key: b('k'), value: b('3') });
  const [kv] = (await store.range({ key: b('k') })).kvs;
  expect(kv).toMatchObject({ createRevision: 5, modRevision: 5, version: 1, lease: 0n });
});

test('put: prev_kv, ignore_value and ignore_lease', async () => {
  const store = await temps.open();
  const first = await store.put({ key: b('k'), value: b('v1'), lease: 5n, prevKv: true });
  expect(first).toEqual({ prevKv: undefined, revision: 2 });
  const second = await store.put({ key: b('k'), ignoreValue: true, lease: 6n, prevKv: true });
  expect(second.prevKv).toMatchObject({ value: b('v1'), lease: 5n, version: 1 });
  const third = await store.put({ key: b('k'), value: b('v3'), ignoreLease: true });
  expect(third.revision).toBe(4);
  const [kv] = (await store.range({ key: b('k') })).kvs;
  expect([s(kv!.value), kv!.lease, kv!.version]).toEqual(['v3', 6n, 3]);
});

test('put: etcd errors for ignore_* misuse, and nothing is written', async () => {
  const store = await temps.open();
  await expect(store.put({ key: b('k'), ignoreValue: true })).rejects.toThrow(new KeyNotFoundError());
  await expect(store.put({ key: b('k'), ignoreLease: true, value: b('x') })).rejects.toThrow('etcdserver: key not found');
  await expect(store.put({ key: b('k'), ignoreValue: true, value: b('x') })).rejects.toThrow(new ValueProvidedError());
  await expect(store.put({ key: b('k'), ignoreLease: true, lease: 3n })).rejects.toThrow(new LeaseProvidedError());
  expect(new ValueProvidedError().message).toBe('etcdserver: value is provided');
  expect(new LeaseProvidedError().message).toBe('etcdserver: lease is provided');
  expect(store.currentRevision()).toBe(1);
});

test('delete range: count, prev_kvs, and no revision when nothing matched', async () => {
  const store = await temps.open();
  for (const key of ['a', 'b', 'c']) await store.put({ key: b(key), value: b(key.toUpperCase()) });
  const none = await store.deleteRange({ key: b('x') });
  expect(none).toEqual({ deleted: 0, prevKvs: [], revision: 4 });
  const deleted = await store.deleteRange({ key: b('a'), rangeEnd: b('c'), prevKv: true });
  expect(deleted.deleted).toBe(2);
  expect(deleted.prevKvs.map((kv) => s(kv.value))).toEqual(['A', 'B']);
  expect(deleted.revision).toBe(5);
  expect((await store.range({ key: b('a'), rangeEnd: b('z') })).kvs.map((kv) => s(kv.key))).toEqual(['c']);
});

describe('txn', () => {
  const eq = (target: CompareTarget, field: Partial<Compare>, result = CompareResult.EQUAL): Compare => ({ key: b('k'), target, result, ...field });

  test('compares on every target and result', async () => {
    const store = await temps.open();
    await store.put({ key: b('k'), value: b('m'), lease: 9n });
    await store.put({ key: b('k'), value: b('m'), lease: 9n });
    const holds = async (compare: Compare) => (await store.txn({ compare: [compare] })).succeeded;
    expect(await holds(eq(CompareTarget.VALUE, { value: b('m') }))).toBe(true);
    expect(await holds(eq(CompareTarget.VALUE, { value: b('a') }, CompareResult.GREATER))).toBe(true);
    expect(await holds(eq(CompareTarget.VALUE, { value: b('z') }, CompareResult.LESS))).toBe(true);
    expect(await holds(eq(CompareTarget.VALUE, { value: b('m') }, CompareResult.NOT_EQUAL))).toBe(false);
    expect(await holds(eq(CompareTarget.VERSION, { version: 2 }))).toBe(true);
    expect(await holds(eq(CompareTarget.CREATE, { createRevision: 2 }))).toBe(true);
    expect(await holds(eq(CompareTarget.MOD, { modRevision: 2 }, CompareResult.GREATER))).toBe(true);
    expect(await holds(eq(CompareTarget.LEASE, { lease: 9n }))).toBe(true);
    expect(await holds(eq(CompareTarget.LEASE, { lease: 10n }, CompareResult.LESS))).toBe(true);
    // A missing key compares as zeros, except on VALUE, which fails.
    expect(await holds({ key: b('nope'), target: CompareTarget.VERSION, result: CompareResult.EQUAL, version: 0 })).toBe(true);
    expect(await holds({ key: b('nope'), target: CompareTarget.VALUE, result: CompareResult.NOT_EQUAL, value: b('x') })).toBe(false);
    // A range compare must hold for every key in it.
    await store.put({ key: b('k2'), value: b('m') });
    const ranged: Compare = { key: b('k'), rangeEnd: b('l'), target: CompareTarget.VALUE, result: CompareResult.EQUAL, value: b('m') };
    expect(await holds(ranged)).toBe(true);
    expect(await holds({ ...ranged, target: CompareTarget.VERSION, value: undefined, version: 2 })).toBe(false);
  });

  test('one main revision for all writes, sub-revisions in op order, reads see earlier writes', async () => {
    const store = await temps.open();
    const seen: Event[][] = [];
    store.onCommitted((events) => void seen.push([...events]));
    const response = await store.txn({
      success: [
        { put: { key: b('x'), value: b('1') } },
        { range: { key: b('x') } },
        { put: { key: b('y'), value: b('2') } },
        { txn: { success: [{ put: { key: b('z'), value: b('3') } }] } },
      ],
    });
    expect(response.revision).toBe(2);
    const inner = response.responses[1];
    expect(inner && 'range' in inner && inner.range.kvs.map((kv) => s(kv.value))).toEqual(['1']);
    const nested = response.responses[3];
    expect(nested && 'txn' in nested && nested.txn).toMatchObject({ succeeded: true, revision: 2 });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.map((e) => [s(e.kv.key), e.kv.modRevision])).toEqual([
      ['x', 2],
      ['y', 2],
      ['z', 2],
    ]);
    expect(store.currentRevision()).toBe(2);
  });

  test('compares of nested txns see the state before the txn', async () => {
    const store = await temps.open();
    const request: TxnRequest = {
      success: [
        { put: { key: b('flag'), value: b('set') } },
        { txn: { compare: [{ key: b('flag'), target: CompareTarget.VERSION, result: CompareResult.EQUAL, version: 0 }] } },
      ],
    };
    const response = await store.txn(request);
    const nested = response.responses[1];
    expect(nested && 'txn' in nested && nested.txn.succeeded).toBe(true);
  });

  test('a read-only txn, or one that deletes nothing, does not move the revision', async () => {
    const store = await temps.open();
    await store.put({ key: b('a'), value: b('1') });
    expect((await store.txn({ success: [{ range: { key: b('a') } }] })).revision).toBe(2);
    expect((await store.txn({ success: [{ deleteRange: { key: b('zz') } }] })).revision).toBe(2);
    expect(store.currentRevision()).toBe(2);
  });

  test('duplicate keys are refused with the etcd message', async () => {
    const store = await temps.open();
    const dup = (request: TxnRequest) => expect(store.txn(request)).rejects.toThrow(new DuplicateKeyError());
    const put = (key: string) => ({ put: { key: b(key) } });
    await dup({ success: [put('a'), put('a')] });
    await dup({ failure: [put('a'), { deleteRange: { key: b('a'), rangeEnd: b('b') } }] });
    await dup({ success: [put('a'), { txn: { success: [put('a')] } }] });
    await dup({ success: [{ txn: { success: [put('a')] } }, { txn: { failure: [put('a')] } }] });
    expect(new DuplicateKeyError().message).toBe('etcdserver: duplicate key given in txn request');
    // Allowed: the same key in both branches, in both branches of a nested txn, and overlapping deletes.
    await store.txn({ success: [put('a')], failure: [put('a')] });
    await store.txn({ success: [{ txn: { success: [put('b')], failure: [put('b')] } }] });
    await store.txn({ success: [{ deleteRange: { key: b('a') } }, { deleteRange: { key: b('a'), rangeEnd: b('c') } }] });
    // As etcd 3.4: a delete from the key on ("\0") is not checked against puts (txn-check.ts).
    await store.txn({ success: [{ deleteRange: { key: b('a'), rangeEnd: Buffer.from([0]) } }, { txn: { success: [put('q')] } }] });
    expect(store.currentRevision()).toBe(5);
  });

  test('a txn that fails a check writes nothing', async () => {
    const store = await temps.open();
    const request: TxnRequest = { success: [{ put: { key: b('a'), value: b('1') } }, { put: { key: b('missing'), ignoreValue: true } }] };
    await expect(store.txn(request)).rejects.toThrow(KeyNotFoundError);
    expect(store.currentRevision()).toBe(1);
    expect((await store.range({ key: b('a') })).kvs).toEqual([]);
  });

  test('ignore_* put of a key a "\\0" delete removed earlier in the txn: refused, nothing written', async () => {
    const store = await temps.open();
    await store.put({ key: b('w'), value: b('1'), lease: 0n });
    const fromA = { deleteRange: { key: b('a'), rangeEnd: Buffer.from([0]) } };
    for (const flags of [{ ignoreValue: true }, { ignoreLease: true, value: b('2') }]) {
      await expect(store.txn({ success: [fromA, { put: { key: b('w'), ...flags } }] })).rejects.toThrow(KeyNotFoundError);
      await expect(store.txn({ success: [{ txn: { success: [fromA] } }, { put: { key: b('w'), ...flags } }] })).rejects.toThrow(
        KeyNotFoundError,
      );
    }
    expect(store.currentRevision()).toBe(2);
    expect((await store.range({ key: b('w') })).kvs.map((kv) => s(kv.value))).toEqual(['1']);
    // The delete after the put is fine: the key is live when the put runs.
    await store.txn({ success: [{ put: { key: b('w'), ignoreValue: true } }, fromA] });
    expect((await store.range({ key: b('w') })).kvs).toEqual([]);
    expect(store.currentRevision()).toBe(3);
  });

  test('an op that throws after writing stops the store; reopening shows none of it', async () => {
    const dir = temps.dir();
    const leases = {
      exists: () => true,
      attach: () => {
        throw new Error('lessor broke');
      },
      detach: () => undefined,
    };
    const store = await temps.open(dir, { leases });
    await store.put({ key: b('a'), value: b('1') });
    await expect(store.txn({ success: [{ put: { key: b('b'), value: b('2') } }, { put: { key: b('c'), lease: 5n } }] })).rejects.toThrow(
      /lessor broke|store failed/,
    );
    await expect(store.put({ key: b('d') })).rejects.toThrow(/store failed/);
    await store.close();
    const reopened = await temps.open(dir);
    expect(reopened.currentRevision()).toBe(2);
    expect((await reopened.range({ key: Buffer.from([0]), rangeEnd: Buffer.from([0]) })).kvs.map((kv) => s(kv.key))).toEqual(['a']);
  });

  test('too many ops', async () => {
    const store = await temps.open(undefined, { maxTxnOps: 2 });
    const puts = ['a', 'b', 'c'].map((key) => ({ put: { key: b(key) } }));
    await expect(store.txn({ success: puts })).rejects.toThrow(new TooManyOpsError());
  });
});

test('lease hooks: unknown leases refused, attach/detach on put and delete, attach on reopen', async () => {
  const calls: string[] = [];
  const leases = {
    exists: (lease: bigint) => lease === 7n || lease === 8n,
    attach: (key: Buffer, lease: bigint) => void calls.push(`attach ${s(key)} ${lease}`),
    detach: (key: Buffer, lease: bigint) => void calls.push(`detach ${s(key)} ${lease}`),
  };
  const dir = temps.dir();
  const store = await temps.open(dir, { leases });
  await expect(store.put({ key: b('k'), lease: 99n })).rejects.toThrow(new LeaseNotFoundError());
  await store.put({ key: b('k'), lease: 7n });
  await store.put({ key: b('k'), lease: 8n });
  await store.put({ key: b('k'), ignoreLease: true, value: b('v') });
  await store.put({ key: b('j'), lease: 7n });
  await store.deleteRange({ key: b('k') });
  expect(calls).toEqual(['attach k 7', 'detach k 7', 'attach k 8', 'attach j 7', 'detach k 8']);
  await store.close();
  calls.length = 0;
  await temps.open(dir, { leases });
  expect(calls).toEqual(['attach j 7']);
});
