// Cost of the bbolt size model (src/backend-size): memory per stored revision and CPU per put,
// for `--revisions` puts of `--value-size` bytes on `--keys` distinct keys, committed every
// `--per-commit` puts (each commit also rewrites consistent_index, as etcd's). Not a test.
// Run from the repository root:
//
//   npx esbuild libs/mvcc/bench/backend-size.ts --bundle --platform=node --packages=external \
//     --outfile=dist/bench/backend-size.js && node --expose-gc dist/bench/backend-size.js
import { parseArgs } from 'node:util';
import { BackendSize } from '../src/backend-size/backend-size';
import { BoltSizeModel } from '../src/backend-size/bolt-model';
import { bootstrapEtcdBackend, CONSISTENT_INDEX_BYTES, EtcdBucket, EtcdMetaKey, keyValueBytes, revisionKey } from '../src/backend-size/etcd-layout';
import { KeySpaces } from '../src/keyspaces';
import { encodeRecord } from '../src/kv-codec';
import { encodeRevision } from '../src/revision';
import type { BatchOp } from '../src/rocks';

const { values } = parseArgs({
  options: {
    revisions: { type: 'string', default: '1000000' },
    keys: { type: 'string', default: '100000' },
    'value-size': { type: 'string', default: '100' },
    'per-commit': { type: 'string', default: '1000' },
  },
});
const REVISIONS = Number(values.revisions);
const KEYS = Number(values.keys);
const VALUE = Number(values['value-size']);
const PER_COMMIT = Number(values['per-commit']);

const gc = (globalThis as { gc?: () => void }).gc;
const heapUsed = (): number => {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
};

const before = heapUsed();
const model = new BoltSizeModel();
bootstrapEtcdBackend(model);
const started = process.hrtime.bigint();
for (let i = 0; i < REVISIONS; i++) {
  const main = i + 2;
  const bytes = keyValueBytes({ keyBytes: 12, createRevision: 2, modRevision: main, version: 1 + Math.floor(i / KEYS), valueBytes: VALUE, lease: 0n });
  model.put(EtcdBucket.key, revisionKey(main, 0, false), bytes, true);
  if ((i + 1) % PER_COMMIT === 0) {
    model.put(EtcdBucket.meta, EtcdMetaKey.consistentIndex, CONSISTENT_INDEX_BYTES);
    model.commit();
  }
}
model.put(EtcdBucket.meta, EtcdMetaKey.consistentIndex, CONSISTENT_INDEX_BYTES);
model.commit();
const elapsedNs = Number(process.hrtime.bigint() - started);
const after = heapUsed();
console.log(
  JSON.stringify({
    revisions: REVISIONS,
    valueSize: VALUE,
    perCommit: PER_COMMIT,
    nsPerPut: Math.round(elapsedNs / REVISIONS),
    heapBytesPerRevision: Math.round((after - before) / REVISIONS),
    gcExposed: gc !== undefined,
    modelSizeBytes: model.size(),
    modelInUseBytes: model.sizeInUse(),
  }),
);

// The same puts through what the store calls per committed batch (record decoding and key
// translation included), one put per batch and commits every `--per-commit` batches.
const feedOps = Math.min(REVISIONS, 200_000);
const batches: BatchOp[][] = [];
for (let i = 0; i < feedOps; i++) {
  const main = i + 2;
  const kv = { key: Buffer.from(`key-${String(i % KEYS).padStart(8, '0')}`), createRevision: 2, modRevision: main, version: 1, lease: 0n, value: Buffer.alloc(VALUE, 1) };
  batches.push([{ type: 'put', key: KeySpaces.history.key(encodeRevision({ main, sub: 0 })), value: encodeRecord(kv, false) }]);
}
const fed = BackendSize.fresh({ batchIntervalMs: 60_000, batchLimit: PER_COMMIT * 2 });
const feedStarted = process.hrtime.bigint();
batches.forEach((ops, i) => {
  fed.applyBatch(ops);
  if ((i + 1) % PER_COMMIT === 0) fed.commitNow();
});
fed.close();
console.log(JSON.stringify({ storeFeedPuts: feedOps, nsPerStoreBatch: Math.round(Number(process.hrtime.bigint() - feedStarted) / feedOps) }));
