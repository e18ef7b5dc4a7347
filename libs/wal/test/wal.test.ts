import fs from 'node:fs';
import path from 'node:path';
import { Wal, WalCorruptionError, WalSnapshotNotFoundError, nodeFileSystem } from '../src';
import { METADATA, SMALL, indexes, makeEntries, useTempWalDir } from './helpers';

let root: string;
let dir: string;
useTempWalDir((r, d) => ([root, dir] = [r, d]));

describe('Wal create and open', () => {
  it('creates an empty WAL that opens with its metadata and an empty state', async () => {
    const wal = await Wal.create(dir, METADATA, { segmentBytes: 64 * 1024 });
    expect(fs.readdirSync(dir)).toEqual(['0000000000000000-0000000000000000.wal']);
    expect(fs.statSync(path.join(dir, '0000000000000000-0000000000000000.wal')).size).toBe(64 * 1024);
    await wal.close();
    const opened = await Wal.open(dir, { segmentBytes: 64 * 1024 });
    expect(opened.metadata).toEqual(METADATA);
    expect(opened.hardState).toEqual({ term: 0, vote: 0n, commit: 0 });
    expect(opened.entries).toEqual([]);
    expect(opened.repairedTail).toBeUndefined();
    await opened.wal.close();
  });

  it('syncs every directory it creates or renames into, parents included', async () => {
    const synced: string[] = [];
    const deep = path.join(root, 'a', 'b', 'member', 'wal');
    const wal = await Wal.create(deep, METADATA, {
      ...SMALL,
      fs: { ...nodeFileSystem, syncDir: async (d) => void synced.push(d) },
    });
    await wal.close();
    // New a/, b/, member/ made durable in their parents; the WAL dir renamed into member/.
    expect(synced).toEqual(
      expect.arrayContaining([root, path.join(root, 'a'), path.join(root, 'a', 'b'), path.join(root, 'a', 'b', 'member')]),
    );
    expect(synced.at(-1)).toBe(path.join(root, 'a', 'b', 'member'));
  });

  it('refuses to create over an existing WAL', async () => {
    await (await Wal.create(dir, METADATA, SMALL)).close();
    await expect(Wal.create(dir, METADATA, SMALL)).rejects.toThrow(/already exists/);
    expect(await Wal.exists(dir)).toBe(true);
    expect(await Wal.exists(path.join(root, 'nothing'))).toBe(false);
  });

  it('returns saved entries and the last hard state after reopening, and keeps appending', async () => {
    const wal = await Wal.create(dir, METADATA, SMALL);
    await wal.save({ term: 1, vote: 0xffffffffffffffffn, commit: 0 }, makeEntries(1, 5));
    await wal.append({ term: 1, vote: 0xffffffffffffffffn, commit: 3 }, makeEntries(6, 2));
    await wal.close();

    const first = await Wal.open(dir, SMALL);
    expect(first.entries).toEqual(makeEntries(1, 7));
    expect(first.hardState).toEqual({ term: 1, vote: 0xffffffffffffffffn, commit: 3 });
    await first.wal.append({ term: 2, vote: 7n, commit: 7 }, makeEntries(8, 1, { term: 2 }));
    await first.wal.close();

    const second = await Wal.open(dir, SMALL);
    expect(indexes(second.entries)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(second.entries[7]!.term).toBe(2);
    expect(second.hardState).toEqual({ term: 2, vote: 7n, commit: 7 });
    await second.wal.close();
  });

  it('lets later entries overwrite earlier ones at the same index (Raft truncation)', async () => {
    const wal = await Wal.create(dir, METADATA, SMALL);
    await wal.append(null, makeEntries(1, 10, { term: 1 }));
    await wal.append(null, makeEntries(6, 3, { term: 2 }));
    await wal.close();
    const { entries, wal: reopened } = await Wal.open(dir, SMALL);
    expect(indexes(entries)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(entries.map((e) => e.term)).toEqual([1, 1, 1, 1, 1, 2, 2, 2]);
    await reopened.close();
  });

  it('refuses a gap in entry indexes, naming the file and offset', async () => {
    const wal = await Wal.create(dir, METADATA, SMALL);
    await wal.append(null, makeEntries(1, 3));
    await wal.append(null, makeEntries(5, 1));
    await wal.close();
    await expect(Wal.open(dir, SMALL)).rejects.toThrow(
      /0000000000000000-0000000000000000\.wal at byte offset \d+: entry index 5 leaves a gap after index 3/,
    );
  });
});

describe('snapshot markers', () => {
  async function writeWithSnapshot(): Promise<void> {
    const wal = await Wal.create(dir, METADATA, SMALL);
    await wal.append({ term: 1, vote: 1n, commit: 10 }, makeEntries(1, 10));
    await wal.saveSnapshotMarker({ index: 5, term: 1 });
    await wal.append({ term: 1, vote: 1n, commit: 12 }, makeEntries(11, 2));
    await wal.close();
  }

  it('returns only the entries after the snapshot', async () => {
    await writeWithSnapshot();
    const opened = await Wal.open(dir, { ...SMALL, fromSnapshot: { index: 5, term: 1 } });
    expect(indexes(opened.entries)).toEqual([6, 7, 8, 9, 10, 11, 12]);
    expect(opened.hardState.commit).toBe(12);
    await opened.wal.close();
  });

  it('refuses a snapshot the WAL has no marker for, or one with another term', async () => {
    await writeWithSnapshot();
    await expect(Wal.open(dir, { ...SMALL, fromSnapshot: { index: 7, term: 1 } })).rejects.toThrow(WalSnapshotNotFoundError);
    await expect(Wal.open(dir, { ...SMALL, fromSnapshot: { index: 5, term: 2 } })).rejects.toThrow(WalCorruptionError);
  });

  it('continues after an installed snapshot beyond the last entry', async () => {
    const wal = await Wal.create(dir, METADATA, SMALL);
    await wal.append(null, makeEntries(1, 3));
    await wal.saveSnapshotMarker({ index: 100, term: 4 });
    await wal.append({ term: 4, vote: 0n, commit: 101 }, makeEntries(101, 2, { term: 4 }));
    await wal.close();
    const opened = await Wal.open(dir, { ...SMALL, fromSnapshot: { index: 100, term: 4 } });
    expect(indexes(opened.entries)).toEqual([101, 102]);
    await opened.wal.close();
  });
});
