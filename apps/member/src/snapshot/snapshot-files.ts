// Temporary etcd-format snapshot files for Maintenance.Snapshot: written into the data dir
// (same disk as the store, never /tmp), streamed, then deleted by the caller.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { MvccStore } from '@keel/mvcc';
import { type EtcdBackendOptions, writeEtcdBackend } from './etcd-backend';

const PREFIX = 'etcd-snapshot-';
const SUFFIX = '.db.part';

export interface SnapshotFile {
  path: string;
  /** Bytes of the bbolt file (a whole number of pages). */
  bytes: number;
  /** Store revision the file captures. */
  revision: number;
}

/**
 * Returns a function that writes a fresh snapshot file in `dir` each call. Files left by an
 * earlier process (a crash mid-stream) are removed once, here.
 */
export function snapshotFileFactory(dir: string, store: MvccStore, options: EtcdBackendOptions = {}): () => Promise<SnapshotFile> {
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) {
    if (name.startsWith(PREFIX) && name.endsWith(SUFFIX)) rmSync(join(dir, name), { force: true });
  }
  let sequence = 0;
  return async () => {
    const path = join(dir, `${PREFIX}${process.pid}-${++sequence}${SUFFIX}`);
    const { revision, summary } = await writeEtcdBackend(store, path, options);
    return { path, bytes: summary.bytes, revision };
  };
}
