// Time and memory of one range over many keys (limit 0), including encoding the response
// as the server does. Not a test. Run from the repository root:
//
//   npx esbuild libs/mvcc/bench/large-range.ts --bundle --platform=node --packages=external \
//     --outfile=dist/bench/mvcc-large-range.js && node --expose-gc dist/bench/mvcc-large-range.js [--keys 100000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { etcdserverpb, mvccpb } from '@keel/proto';
import type { KeyValue } from '../src';
import { MvccStore } from '../src';

const { values } = parseArgs({ options: { paged: { type: 'boolean', default: false }, keys: { type: 'string', default: '100000' }, 'value-size': { type: 'string', default: '256' } } });
const KEYS = Number(values.keys);
const RANGE_ALL = { key: Buffer.from([0]), rangeEnd: Buffer.from([0]) };
const VALUE = Buffer.alloc(Number(values['value-size']), 0x61);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

function external(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** As the member answers: 64-bit fields become bigint. */
function toPb(kv: KeyValue): mvccpb.KeyValue {
  return { ...kv, createRevision: BigInt(kv.createRevision), modRevision: BigInt(kv.modRevision), version: BigInt(kv.version) };
}

/** In the memory pass: live (reachable) bytes at a checkpoint, after a full GC. */
let checkpoint: () => void = () => undefined;

async function wholeResponse(store: MvccStore): Promise<Uint8Array> {
  const response = await store.range(RANGE_ALL);
  checkpoint();
  const bytes = etcdserverpb.RangeResponse.encode({ kvs: response.kvs.map(toPb), more: response.more, count: BigInt(response.count) }).finish();
  checkpoint();
  return bytes;
}

/** Encodes each page into the response (field 2 = kvs) and drops it. */
async function pagedResponse(store: MvccStore): Promise<Uint8Array> {
  const response = await store.rangePages(RANGE_ALL);
  const writer = new BinaryWriter();
  for await (const page of response.pages) {
    for (const kv of page) mvccpb.KeyValue.encode(toPb(kv), writer.uint32(18).fork()).join();
    checkpoint();
  }
  if (response.more) writer.uint32(24).bool(true);
  writer.uint32(32).int64(response.count);
  const bytes = writer.finish();
  checkpoint();
  return bytes;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-mvcc-large-range-'));
  const store = await MvccStore.open(dir);
  try {
    for (let i = 0; i < KEYS; i += 1000) {
      const batch = await store.beginBatch();
      for (let j = i; j < Math.min(KEYS, i + 1000); j++) await batch.put({ key: Buffer.from(`key-${String(j).padStart(8, '0')}`), value: VALUE });
      await batch.commit({ appliedIndex: i + 1, term: 1 });
    }
    for (let round = 0; round < 3; round++) {
      // Memory pass first (nothing of an earlier pass left to collect): the most memory
      // reachable at any checkpoint, each taken after a full GC.
      checkpoint = () => undefined;
      // Buffers' memory is released after GC asynchronously: settle before the baseline.
      for (let i = 0; i < 3; i++) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const before = external();
      let peak = before;
      checkpoint = () => {
        gc();
        peak = Math.max(peak, external());
      };
      const size = (await (values.paged ? pagedResponse(store) : wholeResponse(store))).length;
      // Time pass: no forced GC.
      checkpoint = () => undefined;
      const started = process.hrtime.bigint();
      await (values.paged ? pagedResponse(store) : wholeResponse(store));
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      console.log(
        `${values.paged ? 'rangePages' : 'range'} of ${KEYS} keys: ${ms.toFixed(0)} ms, response ${(size / 1e6).toFixed(1)} MB, ` +
          `most reachable heap+buffers above start ${((peak - before) / 1e6).toFixed(1)} MB`,
      );
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
