// WAL append benchmark (not a test): group-commit throughput vs one fsync per append, and
// the raw fdatasync latency of the disk under the given directory.
//
//   npm run bench -w @keel/wal               (or: cd libs/wal && npm run bench)
//   options: --dir <path> (default: os tmpdir)  --entries <n> (default 20000)
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Wal, crc32c, type WalEntry } from '../src';

const METADATA = { memberId: 1n, clusterId: 2n };
const ENTRY_BYTES = 256;

function entries(first: number, count: number): WalEntry[] {
  const data = new Uint8Array(ENTRY_BYTES).fill(0x61);
  return Array.from({ length: count }, (_, i) => ({ term: 1, index: first + i, type: 0, data }));
}

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** p50 / p99 / mean of per-call latencies in ms (steadier than throughput on a shared machine). */
function latencySummary(ms: number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(3);
  const mean = sorted.reduce((sum, x) => sum + x, 0) / Math.max(sorted.length, 1);
  return `${''.padEnd(44)} per put: p50 ${at(0.5)} ms  p99 ${at(0.99)} ms  mean ${mean.toFixed(3)} ms`;
}

function report(name: string, count: number, elapsed: number, wal: Wal): void {
  const rate = count / elapsed;
  const megabytes = (count * ENTRY_BYTES) / 1e6 / elapsed;
  const { syncs, writes, dsyncWrites } = wal.counters;
  console.log(
    `${name.padEnd(44)} ${rate.toFixed(0).padStart(8)} entries/s ${megabytes.toFixed(2).padStart(7)} MB/s` +
      `  (${count} entries, ${writes} writes, ${syncs} disk flushes of which ${dsyncWrites} O_DSYNC writes` +
      ` and ${syncs - dsyncWrites} fdatasyncs, ${(count / Math.max(syncs, 1)).toFixed(1)} entries/flush)`,
  );
}

async function sequential(dir: string, count: number): Promise<void> {
  const wal = await Wal.create(path.join(dir, 'sequential'), METADATA);
  const latencies: number[] = [];
  const start = process.hrtime.bigint();
  for (const entry of entries(1, count)) {
    const started = process.hrtime.bigint();
    await wal.append(null, [entry]);
    latencies.push(seconds(started) * 1000);
  }
  report('1 writer, durable append each', count, seconds(start), wal);
  console.log(latencySummary(latencies));
  await wal.close();
}

/**
 * A single-member Keel put, seen from the WAL: a durable append of the entry, then a
 * non-durable save of the commit-only hard state (raft's mustSync is false for it), awaited
 * one after the other.
 */
async function memberPattern(dir: string, count: number): Promise<void> {
  const wal = await Wal.create(path.join(dir, 'member-pattern'), METADATA);
  const latencies: number[] = [];
  const start = process.hrtime.bigint();
  for (const entry of entries(1, count)) {
    const started = process.hrtime.bigint();
    await wal.append({ term: 1, vote: 1n, commit: entry.index - 1 }, [entry]);
    await wal.save({ term: 1, vote: 1n, commit: entry.index }, []);
    latencies.push(seconds(started) * 1000);
  }
  report('1 writer, append + commit-only save each', count, seconds(start), wal);
  console.log(latencySummary(latencies));
  await wal.close();
}

async function concurrent(dir: string, count: number, writers: number): Promise<void> {
  const wal = await Wal.create(path.join(dir, `concurrent-${writers}`), METADATA);
  const all = entries(1, count);
  const start = process.hrtime.bigint();
  // `writers` callers each append their own entries one at a time, all sharing fsyncs.
  let next = 0;
  const writer = async (): Promise<void> => {
    while (next < all.length) await wal.append(null, [all[next++]!]);
  };
  await Promise.all(Array.from({ length: writers }, writer));
  report(`${writers} concurrent writers, shared flushes`, count, seconds(start), wal);
  await wal.close();
}

async function saveOnly(dir: string, count: number): Promise<void> {
  const wal = await Wal.create(path.join(dir, 'save-only'), METADATA);
  const all = entries(1, count);
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i += 100) await wal.save(null, all.slice(i, i + 100));
  await wal.sync();
  report('save() batches of 100, one final sync', count, seconds(start), wal);
  await wal.close();
}

/**
 * fdatasync latency after a 256-byte write, on a sparse (ftruncate) and on a zero-written
 * file: appending sequentially (as the WAL does) and into a fresh 4 KiB block every time.
 * The two files are measured alternately, so both see the same background load.
 */
async function fdatasyncLatency(dir: string, samples: number): Promise<void> {
  const size = 64 * 1024 * 1024;
  for (const pattern of ['sequential', 'new block'] as const) {
    const sparse = await fsp.open(path.join(dir, 'latency-sparse'), 'w+');
    await sparse.truncate(size);
    const zeroed = await fsp.open(path.join(dir, 'latency-zeroed'), 'w+');
    const zeros = Buffer.alloc(1024 * 1024);
    for (let at = 0; at < size; at += zeros.length) await zeroed.write(zeros, 0, zeros.length, at);
    await sparse.datasync();
    await zeroed.datasync();
    const record = Buffer.alloc(ENTRY_BYTES, 1);
    const latencies = { sparse: [] as number[], zeroed: [] as number[] };
    for (let i = 0; i < samples; i++) {
      const position = pattern === 'sequential' ? i * ENTRY_BYTES : i * 4096 + 17;
      const order = i % 2 === 0 ? (['sparse', 'zeroed'] as const) : (['zeroed', 'sparse'] as const);
      for (const kind of order) {
        const handle = kind === 'sparse' ? sparse : zeroed;
        await handle.write(record, 0, record.length, position);
        const start = process.hrtime.bigint();
        await handle.datasync();
        latencies[kind].push(seconds(start) * 1000);
      }
    }
    for (const handle of [sparse, zeroed]) await handle.close();
    for (const kind of ['sparse', 'zeroed'] as const) {
      const sorted = latencies[kind].sort((a, b) => a - b);
      const pick = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(3);
      const label = kind === 'sparse' ? 'sparse (ftruncate)' : 'zero-filled (written)';
      console.log(
        `fdatasync, 256 B ${pattern.padEnd(10)} ${label.padEnd(22)} p50 ${pick(0.5)} ms  p90 ${pick(0.9)} ms  p99 ${pick(0.99)} ms  (${samples} samples)`,
      );
    }
    await fsp.unlink(path.join(dir, 'latency-sparse'));
    await fsp.unlink(path.join(dir, 'latency-zeroed'));
  }
}

function crcThroughput(): void {
  const buf = Buffer.alloc(16 * 1024 * 1024, 0x5a);
  crc32c(buf); // warm up
  const start = process.hrtime.bigint();
  const rounds = 4;
  for (let i = 0; i < rounds; i++) crc32c(buf);
  console.log(`crc32c (slicing-by-8)                        ${((rounds * buf.length) / 1e6 / seconds(start)).toFixed(0)} MB/s`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { dir: { type: 'string' }, entries: { type: 'string' } } });
  const base = values.dir ?? os.tmpdir();
  const count = Number(values.entries ?? 20000);
  const dir = fs.mkdtempSync(path.join(base, 'keel-wal-bench-'));
  console.log(`node ${process.version}, ${os.cpus().length} cpus, load ${os.loadavg()[0]!.toFixed(2)}, dir ${dir}`);
  try {
    crcThroughput();
    await fdatasyncLatency(dir, 500);
    await sequential(dir, Math.min(count, 3000));
    await memberPattern(dir, Math.min(count, 3000));
    await concurrent(dir, count, 1000);
    await concurrent(dir, count, 100);
    await saveOnly(dir, count * 5);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
