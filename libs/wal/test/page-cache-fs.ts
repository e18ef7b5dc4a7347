// A file system with a page cache that a power loss empties, to test what "durable" means:
// - a write through a plain handle stays volatile (kept in memory) until a datasync of that
//   file writes the file's volatile bytes to disk;
// - a write through an O_DSYNC handle (openDataSync) is on disk when it completes, and flushes
//   nothing else — exactly the range it wrote, as Linux does;
// - reads see the page-cache view (disk, then the volatile writes in order);
// - powerLoss() drops every volatile write and fails every later operation.
// Truncate, rename, unlink and directory syncs take effect at once (with the file's volatile
// writes flushed first for truncate): this model tests data durability, not metadata.
// The page cache is keyed by inode, as the kernel's is: handles outlive renames of their file
// (a segment is written under a temporary name and renamed, the WAL directory too).
import { statSync } from 'node:fs';
import type { WalFile, WalFileSystem } from '../src/fs';
import { unsyncedFs } from './helpers';

interface PendingWrite {
  position: number;
  bytes: Buffer;
  /** Already on disk (an O_DSYNC write); kept for ordering only. */
  durable: boolean;
}

export interface PageCacheFs extends WalFileSystem {
  powerLoss(): void;
  /** Bytes written but not yet durable, over all files. */
  volatileBytes(): number;
  /** O_DSYNC writes made on the calling thread (writeSync) and through the pool (write). */
  readonly durableWrites: { foreground: number; pool: number };
}

export function pageCacheFs(base: WalFileSystem = unsyncedFs): PageCacheFs {
  const pending = new Map<number, PendingWrite[]>();
  let off = false;
  const durableWrites = { foreground: 0, pool: 0 };
  const alive = (): void => {
    if (off) throw new Error('simulated power loss');
  };
  const pendingOf = (inode: number): PendingWrite[] => {
    let list = pending.get(inode);
    if (!list) pending.set(inode, (list = []));
    return list;
  };
  const inodeOf = (file: string): number => statSync(file).ino;
  const flush = async (inode: number, disk: WalFile): Promise<void> => {
    const list = pendingOf(inode);
    for (const { position, bytes } of list) await disk.write(bytes, 0, bytes.length, position);
    // (a durable write in the list is written again: the same bytes, already on disk)
    list.length = 0;
  };

  const write = (inode: number, disk: WalFile, dsync: boolean, buffer: Uint8Array, offset: number, length: number, position: number): number => {
    alive();
    const bytes = Buffer.from(buffer.subarray(offset, offset + length));
    const list = pendingOf(inode);
    if (dsync) {
      disk.writeSync(bytes, 0, bytes.length, position);
      // Older volatile writes wholly inside this range are on disk now (superseded).
      const end = position + length;
      const kept = list.filter((w) => w.position < position || w.position + w.bytes.length > end);
      list.splice(0, list.length, ...kept);
    }
    // Recorded in the page cache either way, so a later flush of older volatile writes that
    // overlap it in part cannot write stale bytes over it.
    list.push({ position, bytes, durable: dsync });
    return length;
  };

  const handle = (inode: number, disk: WalFile, dsync: boolean): WalFile => ({
    write: async (buffer, offset, length, position) => {
      if (dsync) durableWrites.pool++;
      return { bytesWritten: write(inode, disk, dsync, buffer, offset, length, position) };
    },
    writeSync: (buffer, offset, length, position) => {
      if (dsync) durableWrites.foreground++;
      return write(inode, disk, dsync, buffer, offset, length, position);
    },
    datasync: async () => {
      alive();
      await flush(inode, disk);
    },
    truncate: async (length) => {
      alive();
      await flush(inode, disk);
      await disk.truncate(length);
    },
    close: () => disk.close(),
  });

  return {
    ...base,
    open: async (file, flags) => {
      alive();
      const disk = await base.open(file, flags);
      return handle(inodeOf(file), disk, false);
    },
    openDataSync: async (file) => {
      alive();
      const disk = await base.open(file, 'r+');
      return handle(inodeOf(file), disk, true);
    },
    readFile: async (file) => {
      alive();
      const view = Buffer.from(await base.readFile(file));
      for (const { position, bytes } of pendingOf(inodeOf(file))) view.set(bytes.subarray(0, Math.max(0, view.length - position)), position);
      return view;
    },
    rename: async (from, to) => {
      alive();
      await base.rename(from, to);
    },
    unlink: async (file) => {
      alive();
      pending.delete(inodeOf(file));
      await base.unlink(file);
    },
    syncDir: async (dir) => {
      alive();
      await base.syncDir(dir);
    },
    durableWrites,
    powerLoss: () => {
      off = true;
      pending.clear();
    },
    volatileBytes: () => {
      let total = 0;
      for (const list of pending.values()) for (const write of list) if (!write.durable) total += write.bytes.length;
      return total;
    },
  };
}
