// Defragmentation by rewrite: copy every live record into a fresh RocksDB directory and
// swap it in (etcd's defrag rewrites its bolt file the same way). Deleted and overwritten
// data, and tombstones, are left behind, so the files shrink to the live data.
//
// Crash safety: the copy is made in `<dir>.defrag-tmp` and only swapped in once closed;
// the original is renamed to `<dir>.defrag-old` first. recoverDefrag() (run on open)
// puts the original back if a crash left the swap half done, and removes leftovers.
import { existsSync, renameSync, rmSync } from 'node:fs';
import { type BatchOp, Rocks } from './rocks';

const COPY_BATCH = 1000;

const tmpDir = (dir: string): string => `${dir}.defrag-tmp`;
const oldDir = (dir: string): string => `${dir}.defrag-old`;

/** Copies `source` into a new directory and swaps it in; returns the reopened database. */
export async function rewriteDatabase(source: Rocks, dir: string): Promise<Rocks> {
  rmSync(tmpDir(dir), { recursive: true, force: true });
  const target = await Rocks.open(tmpDir(dir));
  try {
    let pending: BatchOp[] = [];
    for await (const [key, value] of source.scan({ gte: Buffer.from([0]), lt: Buffer.from([0xff]) })) {
      pending.push({ type: 'put', key, value });
      if (pending.length >= COPY_BATCH) {
        await target.write(pending, false);
        pending = [];
      }
    }
    await target.write(pending, true);
  } finally {
    await target.close();
  }
  await source.close();
  renameSync(dir, oldDir(dir));
  renameSync(tmpDir(dir), dir);
  rmSync(oldDir(dir), { recursive: true, force: true });
  return Rocks.open(dir);
}

/** Undoes or finishes an interrupted rewrite of `dir`. */
export function recoverDefrag(dir: string): void {
  if (!existsSync(dir) && existsSync(oldDir(dir))) renameSync(oldDir(dir), dir);
  rmSync(tmpDir(dir), { recursive: true, force: true });
  rmSync(oldDir(dir), { recursive: true, force: true });
}
