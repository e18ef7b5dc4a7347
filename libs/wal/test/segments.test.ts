// Segment cuts, reading across segments, and releasing old segments.
import fs from 'node:fs';
import path from 'node:path';
import { Wal, WalCorruptionError, WalSnapshotNotFoundError, parseSegmentFileName } from '../src';
import { METADATA, indexes, makeEntries, useTempWalDir } from './helpers';

const SEGMENT_BYTES = 4096;
let dir: string;
useTempWalDir((_, d) => (dir = d));

/** 100 entries of ~100 bytes in batches of 5, a hard state per batch, snapshot markers at 40 and 80. */
async function writeSegmentedLog(): Promise<Wal> {
  const wal = await Wal.create(dir, METADATA, { segmentBytes: SEGMENT_BYTES });
  for (let first = 1; first <= 100; first += 5) {
    await wal.append({ term: 3, vote: 2n, commit: first + 4 }, makeEntries(first, 5, { term: 3, size: 100 }));
    if (first + 4 === 40 || first + 4 === 80) await wal.saveSnapshotMarker({ index: first + 4, term: 3 });
  }
  return wal;
}

function segmentFiles(): string[] {
  return fs.readdirSync(dir).filter((name) => name.endsWith('.wal')).sort();
}

describe('segments', () => {
  it('cuts when the active segment passes the size limit, naming each by seq and start index', async () => {
    const wal = await writeSegmentedLog();
    await wal.close();
    expect(fs.readdirSync(dir).filter((name) => !name.endsWith('.wal'))).toEqual([]); // no spare left behind
    const names = segmentFiles().map((name) => parseSegmentFileName(name)!);
    expect(names.length).toBeGreaterThan(3);
    expect(names.map((n) => n.seq)).toEqual(names.map((_, i) => i));
    for (const [i, name] of names.entries()) {
      const size = fs.statSync(path.join(dir, name.fileName)).size;
      if (i < names.length - 1) {
        expect(size).toBeGreaterThanOrEqual(SEGMENT_BYTES); // closed segments: trimmed to their data
        expect(size).toBeLessThan(SEGMENT_BYTES + 5 * 200);
        expect(names[i + 1]!.startIndex).toBeGreaterThan(name.startIndex);
      } else {
        expect(size).toBe(SEGMENT_BYTES); // active segment: preallocated
      }
    }
    expect(names[1]!.startIndex % 5).toBe(1); // cut after a whole batch: the next batch starts there
  });

  it('reads entries and state across all segments, and from a snapshot in the middle', async () => {
    await (await writeSegmentedLog()).close();
    const all = await Wal.open(dir, { segmentBytes: SEGMENT_BYTES });
    expect(indexes(all.entries)).toEqual(makeEntries(1, 100).map((e) => e.index));
    expect(all.hardState).toEqual({ term: 3, vote: 2n, commit: 100 });
    await all.wal.close();
    const fromSnapshot = await Wal.open(dir, { segmentBytes: SEGMENT_BYTES, fromSnapshot: { index: 80, term: 3 } });
    expect(indexes(fromSnapshot.entries)).toEqual(makeEntries(81, 20).map((e) => e.index));
    expect(fromSnapshot.metadata).toEqual(METADATA);
    await fromSnapshot.wal.close();
  });

  it('releases segments wholly below a snapshot and still opens from that snapshot', async () => {
    const wal = await writeSegmentedLog();
    const before = segmentFiles();
    const released = await wal.releaseTo(80);
    const after = segmentFiles();
    expect(released.length).toBeGreaterThan(0);
    expect(after).toEqual(before.filter((name) => !released.includes(name)));
    expect(wal.segmentFiles()).toEqual(after);
    // The first kept segment is the last one starting at or before index 80.
    const starts = before.map((name) => parseSegmentFileName(name)!.startIndex);
    const keepFrom = starts.filter((start) => start <= 80).length - 1;
    expect(after[0]).toBe(before[keepFrom]);

    await wal.append(null, makeEntries(101, 1, { term: 3 }));
    await wal.close();
    const opened = await Wal.open(dir, { segmentBytes: SEGMENT_BYTES, fromSnapshot: { index: 80, term: 3 } });
    expect(indexes(opened.entries)).toEqual(makeEntries(81, 21).map((e) => e.index));
    expect(opened.hardState.commit).toBe(100);
    await opened.wal.close();
    await expect(Wal.open(dir, { fromSnapshot: { index: 0, term: 0 } })).rejects.toThrow(WalSnapshotNotFoundError);
  });

  it('never releases the active segment', async () => {
    const wal = await writeSegmentedLog();
    await wal.releaseTo(1_000_000);
    expect(segmentFiles()).toEqual([wal.segmentFiles().at(-1)]);
    await wal.append(null, makeEntries(101, 1, { term: 3 }));
    await wal.close();
  });

  it('refuses a missing middle segment and a segment that does not chain to its predecessor', async () => {
    await (await writeSegmentedLog()).close();
    const names = segmentFiles();
    const third = path.join(dir, names[2]!);
    const saved = fs.readFileSync(third);
    fs.unlinkSync(third);
    await expect(Wal.open(dir)).rejects.toThrow(/out of sequence/);
    fs.writeFileSync(third, saved);
    // Swap in the second segment's bytes under the third's name: its header no longer matches.
    fs.copyFileSync(path.join(dir, names[1]!), third);
    await expect(Wal.open(dir)).rejects.toThrow(WalCorruptionError);
  });

  it('cleans up a cut that crashed before its rename', async () => {
    await (await writeSegmentedLog()).close();
    const leftover = path.join(dir, '00000000000000ff-0000000000000fff.wal.tmp');
    fs.writeFileSync(leftover, 'partial');
    const opened = await Wal.open(dir);
    expect(fs.existsSync(leftover)).toBe(false);
    expect(opened.entries.length).toBe(100);
    await opened.wal.close();
  });
});
