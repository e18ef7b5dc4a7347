// Crash recovery through the real file system: torn tails at every byte, zero-filled tails,
// corruption in the middle, and a crash in the middle of an append.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Wal, WalCorruptionError, walDirOf, type WalEntry } from '../src';
import { frameBytesFor } from '../src/format';
import { scanSegment } from '../src/frame-decoder';
import { METADATA, crashingFs, indexes, makeEntries, unsyncedFs } from './helpers';

const SEGMENT = '0000000000000000-0000000000000000.wal';
let root: string;
let dir: string;
let file: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-wal-'));
  dir = walDirOf(root);
  file = path.join(dir, SEGMENT);
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

/** Writes 12 entries (one per append, varying sizes) and returns the segment's data bytes. */
async function writeLog(): Promise<{ data: Buffer; entryEnds: Map<number, number> }> {
  const wal = await Wal.create(dir, METADATA, { segmentBytes: 64 * 1024 });
  for (let index = 1; index <= 12; index++) {
    await wal.append({ term: 1, vote: 0n, commit: index - 1 }, makeEntries(index, 1, { size: 5 + index * 3 }));
  }
  await wal.close();
  const image = fs.readFileSync(file);
  const scan = scanSegment(image, { file: SEGMENT, isLast: true });
  const entryEnds = new Map<number, number>();
  for (const frame of scan.frames) {
    if (frame.type === 5) entryEnds.set(Buffer.from(frame.body).readUInt32LE(0), frame.offset + frameBytesFor(frame.body.length));
  }
  return { data: image.subarray(0, scan.validEnd), entryEnds };
}

describe('torn tails', () => {
  it('recovers exactly the fully written entries for a cut at every byte of the last records', async () => {
    const { data, entryEnds } = await writeLog();
    const from = entryEnds.get(9)!; // cut anywhere in the frames of entries 10..12 and their hard states
    for (let cut = from; cut <= data.length; cut++) {
      fs.writeFileSync(file, data.subarray(0, cut));
      const opened = await Wal.open(dir, { segmentBytes: 64 * 1024, fs: unsyncedFs });
      const expected = [...entryEnds].filter(([, end]) => end <= cut).map(([index]) => index);
      expect(indexes(opened.entries)).toEqual(expected);
      await opened.wal.close();
    }
  });

  it('cuts at an unwritten sector, re-zeroes what follows and appends after the last good record', async () => {
    const wal = await Wal.create(dir, METADATA, { segmentBytes: 64 * 1024 });
    await wal.append(null, makeEntries(1, 60, { size: 30 }));
    await wal.close();
    const image = fs.readFileSync(file);
    const frames = scanSegment(image, { file: SEGMENT, isLast: true }).frames.filter((f) => f.type === 5);
    // Power loss: the batch's sector [1024, 1536) never reached the disk, later sectors did.
    image.fill(0, 1024, 1536);
    fs.writeFileSync(file, image);
    const survivors = frames.filter((f) => f.offset + 16 + f.body.length <= 1024).map((f) => Buffer.from(f.body).readUInt32LE(0));
    expect(survivors.length).toBeGreaterThan(5);
    expect(frames.at(-1)!.offset).toBeGreaterThan(1536); // valid frames remain after the hole

    const opened = await Wal.open(dir, { segmentBytes: 64 * 1024 });
    expect(indexes(opened.entries)).toEqual(survivors);
    expect(opened.repairedTail?.offset).toBeLessThanOrEqual(1024);
    const next = survivors.length + 1;
    await opened.wal.append(null, makeEntries(next, 2, { term: 2, size: 8 }));
    await opened.wal.close();

    // The frames after the hole were erased: nothing stale comes back behind the new entries.
    const again = await Wal.open(dir);
    expect(indexes(again.entries)).toEqual([...survivors, next, next + 1]);
    expect(again.entries.at(-1)!.term).toBe(2);
    expect(again.repairedTail).toBeUndefined();
    await again.wal.close();
  });

  it('opens a preallocated segment whose tail is zero-filled without repairs', async () => {
    const { entryEnds } = await writeLog();
    expect(fs.statSync(file).size).toBe(64 * 1024);
    // Zero entry 12 and everything after it, as if its pages never reached the disk.
    const image = fs.readFileSync(file);
    image.fill(0, entryEnds.get(11)!);
    fs.writeFileSync(file, image);
    const opened = await Wal.open(dir);
    expect(indexes(opened.entries)).toEqual(makeEntries(1, 11).map((e) => e.index));
    expect(opened.repairedTail).toBeUndefined();
    await opened.wal.close();
  });
});

describe('corruption before the tail', () => {
  it('refuses flipped bytes in middle records with the file and the record offset', async () => {
    const { data, entryEnds } = await writeLog();
    const start = entryEnds.get(4)!;
    const end = entryEnds.get(6)!;
    for (let at = start; at < end; at += 3) {
      const damaged = Buffer.from(data);
      damaged[at] = damaged[at]! ^ 0x10;
      fs.writeFileSync(file, damaged);
      const error = await Wal.open(dir).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(WalCorruptionError);
      const corruption = error as WalCorruptionError;
      expect(corruption.file).toBe(SEGMENT);
      expect(corruption.offset).toBeGreaterThanOrEqual(start);
      expect(corruption.offset).toBeLessThanOrEqual(at);
      expect(corruption.message).toContain(`${SEGMENT} at byte offset ${corruption.offset}`);
    }
  });
});

describe('crash in the middle of an append', () => {
  it('keeps every acknowledged append and drops the interrupted one', async () => {
    await (await Wal.create(dir, METADATA, { segmentBytes: 64 * 1024 })).close();
    for (const budget of [1, 100, 600, 1500, 2047, 5000]) {
      const crashing = crashingFs(budget);
      const { wal, entries: before } = await Wal.open(dir, { fs: crashing, segmentBytes: 64 * 1024 });
      const acknowledged: WalEntry[] = [...before];
      let next = (before.at(-1)?.index ?? 0) + 1;
      for (;;) {
        const batch = makeEntries(next, 3, { size: 50 });
        try {
          await wal.append({ term: 1, vote: 0n, commit: next }, batch);
        } catch {
          await wal.close().catch(() => undefined);
          break;
        }
        acknowledged.push(...batch);
        next += 3;
      }
      expect(crashing.crashed).toBe(true);
      await expect(wal.append(null, makeEntries(next, 1))).rejects.toThrow(/unusable/);
      // Every acknowledged entry survives; of the interrupted batch at most a prefix does.
      const reopened = await Wal.open(dir, { segmentBytes: 64 * 1024 });
      const recovered = indexes(reopened.entries);
      expect(recovered.slice(0, acknowledged.length)).toEqual(indexes(acknowledged));
      expect(recovered.slice(acknowledged.length)).toEqual([next, next + 1, next + 2].slice(0, recovered.length - acknowledged.length));
      await reopened.wal.close();
    }
  });
});
