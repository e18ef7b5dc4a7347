// How many raft entries a snapshot leaves in memory: etcd's 5,000 with the default
// --snapshot-count even when a follower lags far behind (it is sent a snapshot instead), so the
// leader's in-memory log stays bounded by one snapshot interval plus 5,000 entries.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { EntryType, MemoryStorage } from '@keel/raft';
import type { Wal } from '@keel/wal';
import { CATCH_UP_ENTRIES, Snapshotter, retentionFor } from './snapshots';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

const confState = { voters: [1n, 2n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };

function storageWith(entries: number): MemoryStorage {
  const storage = new MemoryStorage();
  storage.append(Array.from({ length: entries }, (_, i) => ({ term: 1, index: i + 1, type: EntryType.Normal, data: new Uint8Array(0) })));
  return storage;
}

/** Takes one snapshot at `applied` and returns the first index the storage still holds. */
async function firstIndexAfterSnapshot(options: {
  entries: number;
  applied: number;
  snapshotCount: number;
  slowestFollowerMatch: number | undefined;
}): Promise<number> {
  const snapDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-retention-'));
  dirs.push(snapDir);
  let released = false;
  const wal = {
    saveSnapshotMarker: async () => undefined,
    releaseTo: async () => {
      released = true;
      return [];
    },
  } as unknown as Wal;
  const storage = storageWith(options.entries);
  const snapshotter = new Snapshotter({
    snapDir,
    storage,
    wal,
    confState: () => confState,
    snapshotCount: options.snapshotCount,
    ...retentionFor(options.snapshotCount),
    slowestFollowerMatch: () => options.slowestFollowerMatch,
    snapshotsMax: 1,
    logger: pino({ level: 'silent' }),
    lastSnapshotIndex: 0,
    syncStore: () => undefined,
  });
  snapshotter.maybeSnapshot(options.applied);
  for (let i = 0; i < 100 && !released; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(released).toBe(true);
  return storage.firstIndex();
}

describe('snapshot retention', () => {
  it('keeps etcd bounds for the default --snapshot-count', () => {
    expect(retentionFor(100_000)).toEqual({ catchUpEntries: CATCH_UP_ENTRIES, retainEntriesMax: CATCH_UP_ENTRIES });
    expect(CATCH_UP_ENTRIES).toBe(5000);
  });

  it('drops entries a far-behind follower still needs beyond 5,000 (it gets a snapshot)', async () => {
    const first = await firstIndexAfterSnapshot({ entries: 120_000, applied: 110_000, snapshotCount: 100_000, slowestFollowerMatch: 10 });
    expect(first).toBe(110_000 - CATCH_UP_ENTRIES + 1);
  });

  it('keeps 5,000 entries below the snapshot when no follower lags (single member)', async () => {
    const first = await firstIndexAfterSnapshot({ entries: 100_100, applied: 100_050, snapshotCount: 100_000, slowestFollowerMatch: undefined });
    expect(first).toBe(100_050 - CATCH_UP_ENTRIES + 1);
  });

  it('with a small --snapshot-count keeps up to ten intervals for a follower a little behind', async () => {
    const first = await firstIndexAfterSnapshot({ entries: 3_000, applied: 2_000, snapshotCount: 100, slowestFollowerMatch: 1_500 });
    expect(first).toBe(1_501);
    const far = await firstIndexAfterSnapshot({ entries: 3_000, applied: 2_000, snapshotCount: 100, slowestFollowerMatch: 10 });
    expect(far).toBe(2_000 - 10 * 100 + 1);
  });
});
