// The file-system operations the WAL needs, behind an interface so tests can count syncs or
// simulate a crash in the middle of a write. The default is node's fs/promises.
import fsp from 'node:fs/promises';

/** An open segment file. node's FileHandle satisfies this interface. */
export interface WalFile {
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  /** fdatasync(2): data plus the metadata needed to read it back (size, extents). */
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

export interface WalFileSystem {
  /** flags as for fs.open: 'r+' to append to an existing segment, 'wx' to create a new one. */
  open(path: string, flags: string): Promise<WalFile>;
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
  open: (path, flags) => fsp.open(path, flags),
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

/** Writes all of buffer[0, length) at position, looping over short writes. */
export async function writeFully(file: WalFile, buffer: Uint8Array, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await file.write(buffer, done, length - done, position + done);
    if (bytesWritten <= 0) throw new Error(`wal: write made no progress at position ${position + done}`);
    done += bytesWritten;
  }
}
