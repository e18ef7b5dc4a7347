// Throughput of the store alone (no raft, no gRPC): puts with one op per RocksDB batch
// and with 100 ops per batch (group apply), ranges of 1 and of 100 keys, and txns.
// Not a test: numbers depend on the machine. Run from the repository root:
//
//   npx esbuild libs/mvcc/bench/store.ts --bundle --platform=node --packages=external \
//     --outfile=dist/bench/mvcc-store.js && node dist/bench/mvcc-store.js [--ops 20000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MvccStore } from '../src';

const { values } = parseArgs({ options: { ops: { type: 'string', default: '20000' }, 'value-size': { type: 'string', default: '256' } } });
const OPS = Number(values.ops);
const VALUE = Buffer.alloc(Number(values['value-size']), 0x61);
const KEYS = 10_000;
const key = (i: number): Buffer => Buffer.from(`key-${String(i % KEYS).padStart(8, '0')}`);

async function timed(name: string, ops: number, run: () => Promise<void>): Promise<void> {
  const started = process.hrtime.bigint();
  await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`${name.padEnd(34)} ${String(Math.round(ops / seconds)).padStart(8)} ops/s  (${ops} ops, ${seconds.toFixed(2)} s)`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-mvcc-bench-'));
  const store = await MvccStore.open(dir);
  try {
    await timed('put, 1 per batch', OPS, async () => {
      for (let i = 0; i < OPS; i++) await store.put({ key: key(i), value: VALUE }, { appliedIndex: i + 1, term: 1 });
    });
    await timed('put, 100 per batch', OPS, async () => {
      for (let i = 0; i < OPS; i += 100) {
        const batch = await store.beginBatch();
        for (let j = i; j < i + 100; j++) await batch.put({ key: key(j), value: VALUE });
        await batch.commit({ appliedIndex: OPS + i + 100, term: 1 });
      }
    });
    await timed('txn (compare + put), 1 per batch', OPS / 2, async () => {
      for (let i = 0; i < OPS / 2; i++) {
        await store.txn({ compare: [{ key: key(i), target: 1, result: 1, createRevision: 0 }], success: [{ put: { key: key(i), value: VALUE } }] });
      }
    });
    await timed('range, 1 key', OPS, async () => {
      for (let i = 0; i < OPS; i++) await store.range({ key: key(i * 7) });
    });
    await timed('range, 100 keys', OPS / 10, async () => {
      for (let i = 0; i < OPS / 10; i++) {
        const start = (i * 97) % (KEYS - 100);
        await store.range({ key: key(start), rangeEnd: key(start + 100) });
      }
    });
    await timed('range, 100 keys, 8 concurrent', OPS / 10, async () => {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < OPS / 10) {
          const start = (next++ * 97) % (KEYS - 100);
          await store.range({ key: key(start), rangeEnd: key(start + 100) });
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
    });
    console.log(`revision ${store.currentRevision()}, db ${(store.dbSizeBytes() / 1e6).toFixed(1)} MB`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
