// The file-system operations the WAL needs, behind an interface so tests can count syncs or
// simulate a crash in the middle of a write. The default is node's fs/promises.
import { constants, writeSync } from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import { walAssert } from './errors';

/** An open segment file: node's FileHandle plus a synchronous write on its descriptor. */
export interface WalFile {
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  /**
   * pwrite(2) on the calling thread, for small writes that need not be durable: on a plain
   * (not O_DSYNC) file that is a copy into the page cache, cheaper than a thread-pool round
   * trip. Never used on an O_DSYNC file (it would block the event loop for a disk flush).
   */
  writeSync(buffer: Uint8Array, offset: number, length: number, position: number): number;
  /** fdatasync(2): data plus the metadata needed to read it back (size, extents). */
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

export interface WalFileSystem {
  /** flags as for fs.open: 'r+' to append to an existing segment, 'wx' to create a new one. */
  open(path: string, flags: string): Promise<WalFile>;
  /**
   * Opens an existing file for writing with O_DSYNC: a write completes only once its bytes,
   * and the metadata needed to read them back, are on stable storage — as if every write
   * were followed by an fdatasync. On Linux that flush covers only the byte range the write
   * itself wrote (generic_write_sync → vfs_fsync_range), never earlier writes made through
   * another descriptor; the segment writer relies on nothing more.
   */
  openDataSync(path: string): Promise<WalFile>;
  readFile(path: string): Promise<Uint8Array>;
  readdir(dir: string): Promise<string[]>;
  mkdir(dir: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  removeTree(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** fsync(2) on a directory, making creations, renames and deletions in it durable. */
  syncDir(dir: string): Promise<void>;
}

export const nodeFileSystem: WalFileSystem = {
  open: async (path, flags) => withWriteSync(await fsp.open(path, flags)),
  openDataSync: async (path) => {
    walAssert(typeof constants.O_DSYNC === 'number', 'this platform has no O_DSYNC');
    return withWriteSync(await fsp.open(path, constants.O_RDWR | constants.O_DSYNC));
  },
  readFile: (path) => fsp.readFile(path),
  readdir: (dir) => fsp.readdir(dir),
  mkdir: async (dir) => {
    await fsp.mkdir(dir, { recursive: true });
  },
  rename: (from, to) => fsp.rename(from, to),
  unlink: (path) => fsp.unlink(path),
  removeTree: (path) => fsp.rm(path, { recursive: true, force: true }),
  exists: async (path) => {
    try {
      await fsp.stat(path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  },
  syncDir: async (dir) => {
    const handle = await fsp.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};

function withWriteSync(handle: FileHandle): WalFile {
  return {
    write: (buffer, offset, length, position) => handle.write(buffer, offset, length, position),
    writeSync: (buffer, offset, length, position) => writeSync(handle.fd, buffer, offset, length, position),
    datasync: () => handle.datasync(),
    truncate: (length) => handle.truncate(length),
    close: () => handle.close(),
  };
}

/** As writeFully, on the calling thread (WalFile.writeSync). */
export function writeFullySync(file: WalFile, buffer: Uint8Array, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    const bytesWritten = file.writeSync(buffer, done, length - done, position + done);
    if (bytesWritten <= 0) throw new Error(`wal: write made no progress at position ${position + done}`);
    done += bytesWritten;
  }
}

/** Writes all of buffer[0, length) at position, looping over short writes. */
export async function writeFully(file: WalFile, buffer: Uint8Array, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await file.write(buffer, done, length - done, position + done);
    if (bytesWritten <= 0) throw new Error(`wal: write made no progress at position ${position + done}`);
    done += bytesWritten;
  }
}
