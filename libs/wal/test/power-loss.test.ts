// Power loss with a page cache (page-cache-fs.ts): what append()/sync() acknowledged must be on
// disk, including non-durable save()s written before it, over the O_DSYNC path, its
// write + fdatasync fallback, and segment cuts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { Wal, walDirOf, type WalEntry } from '../src';
import { FOREGROUND_DURABLE_BYTES_MAX, UNSYNCED_REWRITE_BYTES_MAX } from '../src/segment-writer';
import { METADATA, indexes, makeEntries, unsyncedFs, useTempWalDir } from './helpers';
import { pageCacheFs } from './page-cache-fs';

const SEGMENT_BYTES = 64 * 1024;

let dir: string;
useTempWalDir((_, d) => (dir = d));

async function reopenFromDisk(walDir: string, segmentBytes = SEGMENT_BYTES) {
  const opened = await Wal.open(walDir, { segmentBytes, fs: unsyncedFs });
  await opened.wal.close();
  return opened;
}

describe('power loss', () => {
  it('loses un-synced save()s but nothing an append() acknowledged, saves before it included', async () => {
    const disk = pageCacheFs();
    const wal = await Wal.create(dir, METADATA, { segmentBytes: SEGMENT_BYTES, fs: disk });
    for (let i = 1; i <= 5; i++) await wal.save({ term: 1, vote: 1n, commit: i - 1 }, makeEntries(i, 1, { size: 100 }));
    expect(disk.volatileBytes()).toBeGreaterThan(500);
    await wal.append({ term: 1, vote: 1n, commit: 5 }, makeEntries(6, 2, { size: 100 }));
    expect(disk.volatileBytes()).toBe(0);
    expect(wal.counters).toMatchObject({ writes: 6, syncs: 1, dsyncWrites: 1 }); // one O_DSYNC write, no fdatasync
    await wal.save({ term: 1, vote: 1n, commit: 7 }, makeEntries(8, 1, { size: 100 }));
    disk.powerLoss();
    await wal.close().catch(() => undefined);
    const recovered = await reopenFromDisk(dir);
    expect(recovered.entries).toEqual(makeEntries(1, 7, { size: 100 }));
    expect(recovered.hardState).toEqual({ term: 1, vote: 1n, commit: 5 });
  });

  it('sync() with only saved bytes pending makes them durable in one O_DSYNC write', async () => {
    const disk = pageCacheFs();
    const wal = await Wal.create(dir, METADATA, { segmentBytes: SEGMENT_BYTES, fs: disk });
    await wal.save(null, makeEntries(1, 3));
    await wal.sync();
    expect(disk.volatileBytes()).toBe(0);
    expect(wal.counters.dsyncWrites).toBe(1);
    await wal.sync(); // nothing pending: no disk flush at all
    expect(wal.counters.syncs).toBe(1);
    disk.powerLoss();
    await wal.close().catch(() => undefined);
    expect(indexes((await reopenFromDisk(dir)).entries)).toEqual([1, 2, 3]);
  });

  it('writes a small durable batch on the calling thread and a large one through the pool, both durable', async () => {
    const disk = pageCacheFs();
    const wal = await Wal.create(dir, METADATA, { segmentBytes: SEGMENT_BYTES, fs: disk });
    await wal.save(null, makeEntries(1, 1, { size: 100 }));
    await wal.append(null, makeEntries(2, 1, { size: 100 })); // both frames, well under 4 KiB
    expect(disk.durableWrites).toEqual({ foreground: 1, pool: 0 });
    expect(disk.volatileBytes()).toBe(0);
    await wal.append(null, makeEntries(3, 1, { size: FOREGROUND_DURABLE_BYTES_MAX }));
    expect(disk.durableWrites).toEqual({ foreground: 1, pool: 1 });
    disk.powerLoss();
    await wal.close().catch(() => undefined);
    expect(indexes((await reopenFromDisk(dir)).entries)).toEqual([1, 2, 3]);
  });

  it('sends every durable batch to the pool when foregroundDurableBytesMax is 0', async () => {
    const disk = pageCacheFs();
    const wal = await Wal.create(dir, METADATA, { segmentBytes: SEGMENT_BYTES, fs: disk, foregroundDurableBytesMax: 0 });
    await wal.append(null, makeEntries(1, 2, { size: 10 }));
    await wal.sync();
    await wal.save(null, makeEntries(3, 1, { size: 10 }));
    await wal.sync();
    expect(disk.durableWrites).toEqual({ foreground: 0, pool: 2 });
    await wal.close();
  });

  it('falls back to write + fdatasync when the un-synced tail is too large to rewrite', async () => {
    const disk = pageCacheFs();
    const segmentBytes = 4 * UNSYNCED_REWRITE_BYTES_MAX;
    const wal = await Wal.create(dir, METADATA, { segmentBytes, fs: disk });
    const size = 4096;
    const saved = Math.ceil(UNSYNCED_REWRITE_BYTES_MAX / size) + 1;
    for (let i = 1; i <= saved; i++) await wal.save(null, makeEntries(i, 1, { size }));
    await wal.append(null, makeEntries(saved + 1, 1, { size }));
    expect(wal.counters).toMatchObject({ syncs: 1, dsyncWrites: 0 });
    expect(disk.volatileBytes()).toBe(0);
    await wal.append(null, makeEntries(saved + 2, 1, { size })); // back on the O_DSYNC path
    expect(wal.counters).toMatchObject({ syncs: 2, dsyncWrites: 1 });
    disk.powerLoss();
    await wal.close().catch(() => undefined);
    expect(indexes((await reopenFromDisk(dir, segmentBytes)).entries)).toEqual(indexes(makeEntries(1, saved + 2)));
  });

  it('makes a segment left in the page cache by a killed process durable on open', async () => {
    const wal = await Wal.create(dir, METADATA, { segmentBytes: SEGMENT_BYTES, fs: unsyncedFs });
    await wal.save(null, makeEntries(1, 4)); // written, never synced; the process "dies" here
    await wal.close();
    const disk = pageCacheFs();
    // Simulate the old process's writes still being only in the page cache: rewrite the
    // segment's bytes through the model as volatile writes.
    const segment = path.join(dir, wal.segmentFiles()[0]!);
    const bytes = fs.readFileSync(segment);
    fs.writeFileSync(segment, Buffer.alloc(bytes.length));
    const volatile = await disk.open(segment, 'r+');
    await volatile.write(bytes, 0, bytes.length, 0);
    await volatile.close();
    const { wal: reopened, entries } = await Wal.open(dir, { segmentBytes: SEGMENT_BYTES, fs: disk });
    expect(indexes(entries)).toEqual([1, 2, 3, 4]);
    await reopened.append(null, makeEntries(5, 1));
    disk.powerLoss();
    await reopened.close().catch(() => undefined);
    expect(indexes((await reopenFromDisk(dir)).entries)).toEqual([1, 2, 3, 4, 5]);
  });
});

type Kind = 'save' | 'append' | 'sync';
interface Op {
  kind: Kind;
  count: number;
  size: number;
  /** Issued without waiting for the previous operations (joins their batch). */
  concurrent: boolean;
}

const opArbitrary: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom<Kind>('save', 'save', 'append', 'append', 'sync'),
  count: fc.integer({ min: 0, max: 5 }),
  size: fc.integer({ min: 0, max: 900 }),
  concurrent: fc.boolean(),
});

describe('power loss at a random moment', () => {
  it('keeps every entry enqueued before an acknowledged append() or sync()', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-wal-power-'));
    const segmentBytes = 8192; // small, so runs cross segment cuts
    try {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(opArbitrary, { minLength: 1, maxLength: 30 }), fc.nat(30), async (ops, lossAfter) => {
          const walDir = walDirOf(path.join(root, String(run++)));
          const disk = pageCacheFs();
          const wal = await Wal.create(walDir, METADATA, { segmentBytes, fs: disk });
          const written = new Map<number, WalEntry>();
          let lastIndex = 0;
          let durableUpTo = 0;
          let resolved = 0;
          let inFlight: Array<Promise<unknown>> = [];
          for (const op of ops) {
            if (!op.concurrent) await Promise.all(inFlight);
            const entries = op.kind === 'sync' ? [] : makeEntries(lastIndex + 1, op.count, { size: op.size });
            for (const entry of entries) written.set(entry.index, entry);
            lastIndex += entries.length;
            const coveredUpTo = lastIndex;
            const call =
              op.kind === 'sync' ? wal.sync() : op.kind === 'append' ? wal.append(null, entries) : wal.save(null, entries);
            const done = call.then(
              () => {
                if (op.kind !== 'save') durableUpTo = Math.max(durableUpTo, coveredUpTo);
                if (++resolved === lossAfter) disk.powerLoss();
              },
              () => undefined, // after the power loss
            );
            inFlight = [...inFlight, done];
          }
          await Promise.all(inFlight);
          disk.powerLoss();
          await wal.close().catch(() => undefined);
          const { entries } = await reopenFromDisk(walDir, segmentBytes);
          expect(entries.length).toBeGreaterThanOrEqual(durableUpTo);
          expect(entries.length).toBeLessThanOrEqual(lastIndex);
          entries.forEach((entry, i) => expect(entry).toEqual(written.get(i + 1)));
        }),
        { numRuns: 60 },
      );
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});
