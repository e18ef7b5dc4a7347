// Shared test fixtures: entry builders and file-system wrappers that count syncs or crash.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nodeFileSystem, type WalFile, type WalFileSystem } from '../src/fs';
import { walDirOf } from '../src/wal';
import type { WalEntry } from '../src/types';

export const METADATA = { memberId: 0x8e9e05c52164694dn, clusterId: 0xfedcba9876543210n };

/** Deterministic, never-zero payload bytes (zero runs would look like unwritten sectors). */
export function payload(index: number, size: number): Uint8Array {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = ((index * 31 + i * 7) % 255) + 1;
  return data;
}

export function makeEntries(first: number, count: number, options: { term?: number; size?: number } = {}): WalEntry[] {
  const entries: WalEntry[] = [];
  for (let index = first; index < first + count; index++) {
    entries.push({ index, term: options.term ?? 1, type: 0, data: payload(index, options.size ?? 40) });
  }
  return entries;
}

export function indexes(entries: readonly WalEntry[]): number[] {
  return entries.map((e) => e.index);
}

/**
 * node's fs with fdatasync/fsync turned into no-ops: for tests that reopen a WAL hundreds of
 * times and check parsing, not durability.
 */
export const unsyncedFs: WalFileSystem = {
  ...nodeFileSystem,
  open: async (path, flags) => withoutSyncs(await nodeFileSystem.open(path, flags)),
  openDataSync: async (path) => withoutSyncs(await nodeFileSystem.open(path, 'r+')),
  syncDir: async () => undefined,
};

function withoutSyncs(file: WalFile): WalFile {
  return {
    write: (buffer, offset, length, position) => file.write(buffer, offset, length, position),
    writeSync: (buffer, offset, length, position) => file.writeSync(buffer, offset, length, position),
    datasync: async () => undefined,
    truncate: (length) => file.truncate(length),
    close: () => file.close(),
  };
}

export interface CountingFs extends WalFileSystem {
  datasyncs: number;
  /** All write calls, O_DSYNC ones included. */
  writes: number;
  /** Write calls on O_DSYNC files: each is also a disk flush. */
  dsyncWrites: number;
  /** Disk flushes: datasync calls plus O_DSYNC writes. */
  readonly flushes: number;
}

/** Delegates to node's fs and counts datasync and write calls on every file it opens. */
export function countingFs(): CountingFs {
  const counting: CountingFs = {
    ...nodeFileSystem,
    datasyncs: 0,
    writes: 0,
    dsyncWrites: 0,
    get flushes() {
      return this.datasyncs + this.dsyncWrites;
    },
    open: async (path, flags) => wrapFile(await nodeFileSystem.open(path, flags), counting, false),
    openDataSync: async (path) => wrapFile(await nodeFileSystem.openDataSync(path), counting, true),
  };
  return counting;
}

function wrapFile(file: WalFile, counts: { datasyncs: number; writes: number; dsyncWrites: number }, dsync: boolean): WalFile {
  return {
    write: (buffer, offset, length, position) => {
      counts.writes++;
      if (dsync) counts.dsyncWrites++;
      return file.write(buffer, offset, length, position);
    },
    writeSync: (buffer, offset, length, position) => {
      counts.writes++;
      if (dsync) counts.dsyncWrites++;
      return file.writeSync(buffer, offset, length, position);
    },
    datasync: async () => {
      await file.datasync();
      counts.datasyncs++;
    },
    truncate: (length) => file.truncate(length),
    close: () => file.close(),
  };
}

/**
 * Simulates power loss: writes go through until `budgetBytes` have been written in total;
 * of the write that crosses the budget only whole 512-byte sectors (by file offset) before
 * the budget point persist — disks write sectors atomically and the page cache writes whole
 * pages — and from then on every operation fails (the machine is off).
 */
export function crashingFs(budgetBytes: number, base: WalFileSystem = nodeFileSystem): WalFileSystem & { crashed: boolean } {
  let remaining = budgetBytes;
  const state = { crashed: false };
  const dead = (): never => {
    throw new Error('simulated crash');
  };
  const guard = <T>(op: () => Promise<T>): Promise<T> => (state.crashed ? Promise.reject(new Error('simulated crash')) : op());
  /** Writes what the budget allows; returns the bytes written, or throws after the power fails. */
  const budgetedWrite = (file: WalFile, buffer: Uint8Array, offset: number, length: number, position: number): number => {
    if (state.crashed) dead();
    if (length <= remaining) {
      remaining -= length;
      return file.writeSync(buffer, offset, length, position);
    }
    const persistedEnd = Math.floor((position + remaining) / 512) * 512;
    if (persistedEnd > position) file.writeSync(buffer, offset, persistedEnd - position, position);
    state.crashed = true;
    return dead();
  };
  const crashable = (file: WalFile): WalFile => ({
    write: async (buffer, offset, length, position) => ({ bytesWritten: budgetedWrite(file, buffer, offset, length, position) }),
    writeSync: (buffer, offset, length, position) => budgetedWrite(file, buffer, offset, length, position),
    datasync: () => guard(() => file.datasync()),
    truncate: (length) => guard(() => file.truncate(length)),
    close: () => file.close(),
  });
  const fs: WalFileSystem & { crashed: boolean } = {
    ...base,
    get crashed() {
      return state.crashed;
    },
    open: async (path, flags) => crashable(await guard(() => base.open(path, flags))),
    openDataSync: async (path) => crashable(await guard(() => base.openDataSync(path))),
    rename: (a, b) => guard(() => base.rename(a, b)),
    unlink: (p) => guard(() => base.unlink(p)),
    syncDir: (d) => guard(() => base.syncDir(d)),
  };
  return fs;
}

/** Segment size for tests that do not care about it: preallocating 64 MiB per test is slow. */
export const SMALL = { segmentBytes: 1024 * 1024 };

/**
 * Gives each test of the file a fresh temp data dir (`root`) and its `<root>/member/wal`
 * path (not created), removed after the test: `useTempWalDir((r, d) => ([root, dir] = [r, d]))`.
 */
export function useTempWalDir(onEach: (root: string, dir: string) => void): void {
  let root = '';
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-wal-'));
    onEach(root, walDirOf(root));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));
}
