import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { EntryType, MemoryStorage } from '@keel/raft';
import type { Wal } from '@keel/wal';
import { Snapshotter } from './snapshots';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

const confState = { voters: [1n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };

function storageWith(entries: number): MemoryStorage {
  const storage = new MemoryStorage();
  storage.append(Array.from({ length: entries }, (_, i) => ({ term: 1, index: i + 1, type: EntryType.Normal, data: new Uint8Array(0) })));
  return storage;
}

describe('Snapshotter', () => {
  it('makes the store durable before the WAL records the snapshot and releases segments', async () => {
    const snapDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-snapshotter-'));
    dirs.push(snapDir);
    const calls: string[] = [];
    const wal = {
      saveSnapshotMarker: async () => void calls.push('wal marker'),
      releaseTo: async () => {
        calls.push('wal release');
        return [];
      },
    } as unknown as Wal;
    const snapshotter = new Snapshotter({
      snapDir,
      storage: storageWith(20),
      wal,
      confState: () => confState,
      snapshotCount: 10,
      catchUpEntries: 5,
      slowestFollowerMatch: () => undefined,
      retainEntriesMax: 100,
      snapshotsMax: 2,
      logger: pino({ level: 'silent' }),
      lastSnapshotIndex: 0,
      syncStore: () => void calls.push('store sync'),
    });

    snapshotter.maybeSnapshot(5); // below --snapshot-count: nothing happens
    snapshotter.maybeSnapshot(12);
    for (let i = 0; i < 50 && !calls.includes('wal release'); i++) await new Promise((resolve) => setTimeout(resolve, 10));

    expect(calls).toEqual(['store sync', 'wal marker', 'wal release']);
    expect(fs.readdirSync(snapDir).filter((name) => name.endsWith('.snap'))).toHaveLength(1);
  });
});
