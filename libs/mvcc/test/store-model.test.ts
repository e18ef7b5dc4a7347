// Model-based test: seeded random sequences of put / delete / txn / compact / range
// (every option), some grouped into one apply batch, some separated by close+reopen,
// run against the store and the naive model (model.ts); every response, every error and
// the stream of committed events must agree. A failure prints its seed.
import {
  ApplyBatch,
  type Compare,
  CompareResult,
  CompareTarget,
  type Event,
  EventType,
  type KeyValue,
  MvccStore,
  type RangeRequest,
  type RequestOp,
  type ResponseOp,
  SortOrder,
  SortTarget,
  type TxnRequest,
} from '../src';
import { TempStores } from './helpers';
import { type MEvent, type MKv, Model, type MResponse } from './model';

const temps = new TempStores();
afterAll(() => temps.cleanup());

/** mulberry32: small, seedable, good enough to pick test operations. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = ['a', 'ab', 'b', 'c/1', 'c/2', 'c/3', 'd', 'z'];
const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

class Generator {
  constructor(
    readonly random: () => number,
    private readonly model: Model,
  ) {}

  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  chance(p: number): boolean {
    return this.random() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** key and rangeEnd: single key, interval, prefix, or everything from key on. */
  keyRange(): { key: Buffer; rangeEnd?: Buffer } {
    const key = this.pick(KEYS);
    switch (this.int(5)) {
      case 0:
      case 1:
        return { key: bytes(key) };
      case 2:
        return { key: bytes(key), rangeEnd: bytes(this.pick(KEYS)) };
      case 3:
        return { key: bytes('c/'), rangeEnd: bytes('c0') };
      default:
        return { key: bytes(this.pick(['\0', key])), rangeEnd: Buffer.from([0]) };
    }
  }

  /** 0 (current) or a revision around the readable window, sometimes just outside it. */
  revision(): number {
    const low = Math.max(0, this.model.compacted - 1);
    return this.chance(0.5) ? 0 : low + this.int(this.model.revision - low + 2);
  }

  range(inTxn = false): RangeRequest {
    return {
      ...this.keyRange(),
      limit: this.chance(0.4) ? this.int(4) : 0,
      revision: inTxn && this.chance(0.7) ? 0 : this.revision(),
      sortOrder: this.chance(0.5) ? SortOrder.NONE : this.pick([SortOrder.ASCEND, SortOrder.DESCEND]),
      sortTarget: this.chance(0.4) ? SortTarget.KEY : this.pick([SortTarget.VERSION, SortTarget.CREATE, SortTarget.MOD, SortTarget.VALUE]),
      keysOnly: this.chance(0.2),
      countOnly: this.chance(0.15),
      minModRevision: this.chance(0.15) ? this.int(this.model.revision + 1) : 0,
      maxModRevision: this.chance(0.15) ? this.int(this.model.revision + 1) : 0,
      minCreateRevision: this.chance(0.15) ? this.int(this.model.revision + 1) : 0,
      maxCreateRevision: this.chance(0.15) ? this.int(this.model.revision + 1) : 0,
    };
  }

  put(): RequestOp {
    const ignoreValue = this.chance(0.1);
    const ignoreLease = this.chance(0.1);
    return {
      put: {
        key: bytes(this.pick(KEYS)),
        value: ignoreValue && !this.chance(0.2) ? undefined : bytes(this.pick(['', 'x', 'y', 'zz', 'v'.repeat(this.int(5))])),
        lease: ignoreLease && !this.chance(0.2) ? 0n : this.pick([0n, 0n, 7n, 9n]),
        prevKv: this.chance(0.5),
        ignoreValue,
        ignoreLease,
      },
    };
  }

  deleteRange(): RequestOp {
    return { deleteRange: { ...this.keyRange(), prevKv: this.chance(0.5) } };
  }

  compare(): Compare {
    const target = this.pick([CompareTarget.VALUE, CompareTarget.VERSION, CompareTarget.CREATE, CompareTarget.MOD, CompareTarget.LEASE]);
    const compare: Compare = {
      ...(this.chance(0.8) ? { key: bytes(this.pick(KEYS)) } : this.keyRange()),
      target,
      result: this.pick([CompareResult.EQUAL, CompareResult.GREATER, CompareResult.LESS, CompareResult.NOT_EQUAL]),
    };
    if (target === CompareTarget.VALUE) compare.value = bytes(this.pick(['', 'x', 'y', 'zz']));
    if (target === CompareTarget.VERSION) compare.version = this.int(4);
    if (target === CompareTarget.CREATE) compare.createRevision = this.int(this.model.revision + 2);
    if (target === CompareTarget.MOD) compare.modRevision = this.int(this.model.revision + 2);
    if (target === CompareTarget.LEASE) compare.lease = this.pick([0n, 7n, 9n]);
    return compare;
  }

  ops(depth: number): RequestOp[] {
    const count = this.int(4);
    const ops: RequestOp[] = [];
    for (let i = 0; i < count; i++) {
      const kind = this.int(depth === 0 ? 5 : 4);
      if (kind === 0) ops.push({ range: this.range(true) });
      else if (kind === 1 || kind === 2) ops.push(this.put());
      // Nested txns hold no deletes (see checkDuplicates in model.ts).
      else if (kind === 3 && depth === 0) ops.push({ txn: this.txn(depth + 1) });
      else if (depth === 0) ops.push(this.deleteRange());
      else ops.push(this.put());
    }
    return ops;
  }

  txn(depth = 0): TxnRequest {
    return {
      compare: Array.from({ length: this.int(3) }, () => this.compare()),
      success: this.ops(depth),
      failure: this.ops(depth),
    };
  }
}

// Conversions of store results into the model's shapes.
function mkv(kv: KeyValue): MKv {
  return {
    key: kv.key.toString('latin1'),
    value: kv.value.toString('latin1'),
    create: kv.createRevision,
    mod: kv.modRevision,
    version: kv.version,
    lease: kv.lease,
  };
}

function mresponse(op: ResponseOp): MResponse {
  if ('range' in op) return { range: { ...op.range, kvs: op.range.kvs.map(mkv) } };
  if ('put' in op) return { put: { prevKv: op.put.prevKv && mkv(op.put.prevKv), revision: op.put.revision } };
  if ('deleteRange' in op) return { deleteRange: { ...op.deleteRange, prevKvs: op.deleteRange.prevKvs.map(mkv) } };
  return { txn: { ...op.txn, responses: op.txn.responses.map(mresponse) } };
}

function mevent(event: Event): MEvent {
  return { type: event.type === EventType.PUT ? 'PUT' : 'DELETE', kv: mkv(event.kv) };
}

/** Outcome counts per op kind, printed with MVCC_MODEL_STATS=1 (to check the generator's mix). */
const stats = new Map<string, number>();
afterAll(() => {
  if (process.env.MVCC_MODEL_STATS !== undefined) console.log([...stats].sort().map(([k, v]) => `${k}: ${v}`).join('\n'));
});

/** Runs `action` on both; both must throw the same error class, or both return equal results. */
async function agree<T>(label: string, storeSide: () => Promise<T>, modelSide: () => T): Promise<void> {
  let expected: T | Error;
  try {
    expected = modelSide();
  } catch (error) {
    expected = error as Error;
  }
  let actual: T | Error;
  try {
    actual = await storeSide();
  } catch (error) {
    actual = error as Error;
  }
  const outcome = expected instanceof Error ? expected.constructor.name : 'ok';
  const kind = label.replace(/^.*: /, '');
  stats.set(`${kind} ${outcome}`, (stats.get(`${kind} ${outcome}`) ?? 0) + 1);
  if (expected instanceof Error || actual instanceof Error) {
    const name = (value: unknown): string => (value instanceof Error ? value.constructor.name : 'result');
    expect(`${label}: ${name(actual)}`).toBe(`${label}: ${name(expected)}`);
    if (actual instanceof Error && expected instanceof Error) expect(actual.message).toBe(expected.message);
    return;
  }
  expect([label, actual]).toEqual([label, expected]);
}

interface Harness {
  store: MvccStore;
  model: Model;
  gen: Generator;
  events: MEvent[];
}

async function step(h: Harness, batch: ApplyBatch, label: string): Promise<void> {
  const { model, gen } = h;
  const kind = gen.int(20);
  if (kind <= 5) {
    const op = gen.put();
    if (!('put' in op)) throw new Error('unreachable');
    await agree(
      `${label}: put`,
      async () => mresponse({ put: await batch.put(op.put) }),
      () => model.txn({ success: [op] }).responses[0]!,
    );
  } else if (kind <= 7) {
    const op = gen.deleteRange();
    if (!('deleteRange' in op)) throw new Error('unreachable');
    await agree(
      `${label}: delete`,
      async () => mresponse({ deleteRange: await batch.deleteRange(op.deleteRange) }),
      () => model.txn({ success: [op] }).responses[0]!,
    );
  } else if (kind <= 12) {
    const request = gen.txn();
    await agree(
      `${label}: txn`,
      async () => mresponse({ txn: await batch.txn(request) }),
      () => ({ txn: model.txn(request) }),
    );
  } else if (kind === 13) {
    const revision = model.compacted + gen.int(model.revision - model.compacted + 2);
    await agree(
      `${label}: compact`,
      async () => batch.compact(revision).revision,
      () => {
        model.compact(revision);
        return revision;
      },
    );
  } else {
    const request = gen.range();
    await agree(
      `${label}: range`,
      async () => mresponse({ range: await batch.range(request) }),
      () => ({ range: model.range(request) }),
    );
  }
}

/** Committed reads through the store at every readable revision must match the model. */
async function checkAllRevisions(h: Harness, label: string): Promise<void> {
  expect(h.store.currentRevision()).toBe(h.model.revision);
  expect(h.store.compactRevision()).toBe(h.model.compacted);
  for (let rev = Math.max(1, h.model.compacted); rev <= h.model.revision; rev++) {
    const request: RangeRequest = { key: Buffer.from([0]), rangeEnd: Buffer.from([0]), revision: rev };
    await agree(`${label} @${rev}: full range`, async () => mresponse({ range: await h.store.range(request) }), () => ({ range: h.model.range(request) }));
  }
}

async function runSeed(seed: number, steps: number): Promise<void> {
  const dir = temps.dir();
  const model = new Model();
  const h: Harness = { store: await MvccStore.open(dir), model, gen: new Generator(rng(seed), model), events: [] };
  const listen = (): void => void h.store.onCommitted((events) => h.events.push(...events.map(mevent)));
  listen();
  try {
    for (let i = 0; i < steps; ) {
      if (h.gen.chance(0.04)) {
        await h.store.close();
        h.store = await MvccStore.open(dir);
        listen();
        await checkAllRevisions(h, `seed ${seed} reopen before step ${i}`);
        continue;
      }
      const batch = await h.store.beginBatch();
      const group = h.gen.chance(0.3) ? 1 + h.gen.int(5) : 1;
      for (let g = 0; g < group && i < steps; g++, i++) await step(h, batch, `seed ${seed} step ${i}`);
      await batch.commit({ appliedIndex: i, term: 1 });
      expect(h.store.appliedIndex()).toBe(i);
    }
    await checkAllRevisions(h, `seed ${seed} end`);
    // The consistency hash is a function of the logical history: reopening keeps it.
    const hashBefore = await h.store.hashKV(0);
    await h.store.close();
    h.store = await MvccStore.open(dir);
    expect(await h.store.hashKV(0)).toEqual(hashBefore);
    // Every event, in order, across reopens.
    expect(h.events).toEqual(model.events);
    // History read back from RocksDB equals the model's events after the compaction point.
    if (model.revision > model.compacted) {
      const from = model.compacted + 1;
      const read = await h.store.readEvents(from, model.revision, { key: Buffer.from([0]), rangeEnd: Buffer.from([0]) }, 1_000_000);
      expect(read.events.map(mevent)).toEqual(model.events.filter((e) => e.kv.mod >= from));
      expect(read.nextRevision).toBe(model.revision + 1);
    }
  } finally {
    await h.store.close();
  }
}

const SEEDS = Number(process.env.MVCC_MODEL_SEEDS ?? 12);
const FIRST_SEED = Number(process.env.MVCC_MODEL_SEED ?? 1);

test.each(Array.from({ length: SEEDS }, (_, i) => FIRST_SEED + i))('store agrees with the model (seed %i)', async (seed) => {
  await runSeed(seed, 150);
});
