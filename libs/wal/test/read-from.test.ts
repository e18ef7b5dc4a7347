// Wal.readFrom: entries from any index, read-only, across segments, overwrites and releases.
import fs from 'node:fs';
import path from 'node:path';
import { Wal, WalCorruptionError, WalIndexUnavailableError } from '../src';
import { METADATA, indexes, makeEntries, payload, useTempWalDir } from './helpers';

const SEGMENT_BYTES = 4096;
let dir: string;
useTempWalDir((_, d) => (dir = d));

function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/** 100 entries of ~100 bytes in batches of 5 over several segments; a snapshot marker at 40. */
async function writeLog(): Promise<Wal> {
  const wal = await Wal.create(dir, METADATA, { segmentBytes: SEGMENT_BYTES });
  for (let first = 1; first <= 100; first += 5) {
    await wal.append({ term: 3, vote: 2n, commit: first + 4 }, makeEntries(first, 5, { term: 3, size: 100 }));
    if (first + 4 === 40) await wal.saveSnapshotMarker({ index: 40, term: 3 });
  }
  return wal;
}

describe('Wal.readFrom', () => {
  it('reads from every index, in any segment, with the payloads written', async () => {
    const wal = await writeLog();
    expect(wal.segmentFiles().length).toBeGreaterThan(3);
    for (const index of [1, 2, 17, 40, 41, 63, 99, 100]) {
      const read = await Wal.readFrom(dir, index);
      expect(indexes(read.entries)).toEqual(range(index, 100));
      expect(Buffer.from(read.entries[0]!.data)).toEqual(Buffer.from(payload(index, 100)));
      expect(read.metadata).toEqual(METADATA);
      expect(read.hardState).toEqual({ term: 3, vote: 2n, commit: 100 });
    }
    expect((await Wal.readFrom(dir, 101)).entries).toEqual([]); // past the end: nothing yet
    await wal.close();
  });

  it('sees a running WAL without disturbing it, and honours overwritten suffixes', async () => {
    const wal = await writeLog();
    // A new leader overwrote 96..100 with term 4 entries, then wrote 97..98 again.
    await wal.append({ term: 4, vote: 1n, commit: 95 }, makeEntries(96, 5, { term: 4 }));
    await wal.append(null, makeEntries(97, 2, { term: 5 }));
    const read = await Wal.readFrom(dir, 90);
    expect(indexes(read.entries)).toEqual(range(90, 98));
    expect(read.entries.map((e) => e.term)).toEqual([3, 3, 3, 3, 3, 3, 4, 5, 5]);
    await wal.append(null, makeEntries(99, 1, { term: 5 })); // still usable for writing
    await wal.close();
    const reopened = await Wal.open(dir, { segmentBytes: SEGMENT_BYTES });
    expect(indexes(reopened.entries)).toEqual(range(1, 99));
    await reopened.wal.close();
  });

  it('refuses an index in released segments, or one replaced by an installed snapshot', async () => {
    const wal = await writeLog();
    await wal.releaseTo(40);
    const oldest = fs.readdirSync(dir).sort()[0]!;
    const oldestStart = parseInt(oldest.slice(17, 33), 16);
    expect(oldestStart).toBeGreaterThan(1);
    await expect(Wal.readFrom(dir, 1)).rejects.toThrow(WalIndexUnavailableError);
    expect(indexes((await Wal.readFrom(dir, oldestStart)).entries)).toEqual(range(oldestStart, 100));
    // A follower installs a snapshot at 500: its log continues at 501.
    await wal.saveSnapshotMarker({ index: 500, term: 6 });
    await wal.append(null, makeEntries(501, 3, { term: 6 }));
    await wal.close();
    await expect(Wal.readFrom(dir, 90)).rejects.toThrow(/index 90 are not available: snapshot at index 500/);
    expect(indexes((await Wal.readFrom(dir, 501)).entries)).toEqual([501, 502, 503]);
    expect(indexes((await Wal.readFrom(dir, 502)).entries)).toEqual([502, 503]);
  });

  it('stops at a torn tail without repairing it, and refuses corruption like open', async () => {
    const wal = await writeLog();
    await wal.close();
    const last = path.join(dir, fs.readdirSync(dir).sort().at(-1)!);
    const bytes = fs.readFileSync(last);
    let end = bytes.length;
    while (end > 0 && bytes[end - 1] === 0) end--;
    fs.truncateSync(last, end - 3); // the last record (the final hard state) torn
    const torn = await Wal.readFrom(dir, 90);
    expect(indexes(torn.entries)).toEqual(range(90, 100));
    expect(torn.hardState.commit).toBe(95); // the hard state before the torn one
    expect(fs.statSync(last).size).toBe(end - 3); // read-only: the file is untouched
    const first = path.join(dir, fs.readdirSync(dir).sort()[0]!);
    const middle = fs.readFileSync(first);
    middle[200] = middle[200]! ^ 0xff;
    fs.writeFileSync(first, middle);
    await expect(Wal.readFrom(dir, 1)).rejects.toThrow(WalCorruptionError);
    await expect(Wal.readFrom(dir, 1)).rejects.toThrow(/0000000000000000-0000000000000000\.wal at byte offset/);
  });

  it('rejects an index that is not a positive integer', async () => {
    await (await writeLog()).close();
    await expect(Wal.readFrom(dir, 0)).rejects.toThrow(RangeError);
    await expect(Wal.readFrom(dir, 1.5)).rejects.toThrow(RangeError);
  });
});
