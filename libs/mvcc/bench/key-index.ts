// Operations per second of the in-memory key index alone (no RocksDB): point reads and
// writes of existing keys, creation of new keys, and short range walks, over 100,000 keys.
// Not a test: numbers depend on the machine. Run from the repository root:
//
//   npx esbuild libs/mvcc/bench/key-index.ts --bundle --platform=node --packages=external \
//     --outfile=dist/bench/mvcc-key-index.js && node --expose-gc dist/bench/mvcc-key-index.js [--keys 100000] [--key-size 8]
//
// Keys are decimal numbers left-padded to --key-size bytes (as bin/benchmark's put writes
// them); `--prefix` puts a common prefix in front, as Kubernetes-style keys have.
import { parseArgs } from 'node:util';
import { createKeyIndex, type KeyIndex } from '../src/key-index';

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '100000' },
    'key-size': { type: 'string', default: '8' },
    prefix: { type: 'string', default: '' },
    rounds: { type: 'string', default: '5' },
  },
});
const KEYS = Number(values.keys);
const ROUNDS = Number(values.rounds);
const keys: Buffer[] = Array.from({ length: KEYS }, (_, i) => Buffer.from(values.prefix + String(i).padStart(Number(values['key-size']), '0')));
/** A fixed pseudo-random visiting order, the same for every run. */
const order: number[] = Array.from({ length: KEYS }, (_, i) => (i * 7919 + 13) % KEYS);

let revision = 0;
const nextRev = () => ({ main: ++revision, sub: 0 });

/** Ops per second of process CPU time (user + system, all threads: GC included), which
 * varies less than wall-clock time on a machine shared with other work. */
function timed(name: string, ops: number, run: () => void): void {
  const samples: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = process.cpuUsage();
    run();
    const used = process.cpuUsage(started);
    samples.push(ops / ((used.user + used.system) / 1e6));
  }
  samples.sort((a, b) => a - b);
  const median = samples[samples.length >> 1]!;
  console.log(`${name.padEnd(40)} ${String(Math.round(median)).padStart(10)} ops per CPU second  (median of ${ROUNDS} rounds of ${ops})`);
}

function filled(): KeyIndex {
  const index = createKeyIndex();
  for (const i of order) index.put(keys[i]!, nextRev(), 0n);
  return index;
}

function main(): void {
  console.log(`${KEYS} keys of ${keys[0]!.length} bytes`);
  timed('put, creating every key', KEYS, () => void filled());
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const index = filled();
  gc?.();
  if (gc) console.log(`${'heap per key, one revision each'.padEnd(40)} ${String(Math.round((process.memoryUsage().heapUsed - heapBefore) / KEYS)).padStart(10)} bytes (run with --expose-gc)`);
  // Fresh Buffers per lookup, as keys decoded from requests are.
  const requestKeys = order.map((i) => Buffer.from(keys[i]!));
  let sink = 0;
  timed('put, existing key', KEYS, () => {
    for (const key of requestKeys) sink += index.put(key, nextRev(), 0n).version;
  });
  timed('get, latest revision', KEYS, () => {
    for (const key of requestKeys) sink += index.get(key, Number.MAX_SAFE_INTEGER)?.version ?? 0;
  });
  timed('get, absent key', KEYS, () => {
    for (const key of requestKeys) sink += index.get(Buffer.concat([key, Buffer.from('x')]), Number.MAX_SAFE_INTEGER)?.version ?? 0;
  });
  const starts = order.slice(0, 2000).map((i) => keys[i]!);
  timed('visit, 100 keys from a start', starts.length, () => {
    for (const start of starts) {
      let seen = 0;
      index.visit({ start, end: null }, Number.MAX_SAFE_INTEGER, () => ++seen < 100);
      sink += seen;
    }
  });
  timed('keep (a compaction plan over all keys)', 1, () => void (sink += index.keep(revision).size));
  if (sink === 42) console.log('');
}

main();
