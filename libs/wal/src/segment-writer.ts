// Owns the segment files on the write side: the active file and its write offset, cutting
// to a new segment, preallocation and releasing old segments.
//
// Invariants:
// - bytes of the active file at and after `offset` are zero (preallocated and never written,
//   or re-zeroed by open's tail repair), so a crash can only leave a prefix of our writes;
// - a segment file exists under its final name only once it is fully preallocated and its
//   header records are durable (prepared under a *.wal.tmp name, synced, then renamed);
// - `segments` lists the files in the directory in seq order; the last one is active;
// - every byte of the active segment below `syncedOffset` is on stable storage, and
//   `unsynced` (while not `undefined`) holds exactly the bytes in [syncedOffset, offset).
//
// Durable writes take one thread-pool operation. The active segment is open twice: `file`
// (plain) and `dsyncFile` (O_DSYNC). A durable batch is written through `dsyncFile`, starting
// at `syncedOffset`: the bytes of earlier non-durable writes still in [syncedOffset, offset)
// are written again, unchanged, in front of the new frames, because an O_DSYNC write flushes
// only the range it writes. One pwrite therefore leaves everything below the new offset
// durable — the same guarantee as write + fdatasync, without the second pool round trip.
// Rewriting identical bytes is safe: every sector in the range holds either zeros (never
// reached the disk) or exactly these bytes, before, during and after the write, so a crash
// can still only leave a prefix of our writes (FORMAT.md §5–6). Preallocation (zero-written
// blocks, fixed file size) means an O_DSYNC write never has to commit an allocation or a size
// change with the data; O_DSYNC would still make those durable if it had to (POSIX
// synchronized I/O data integrity), so durability does not depend on it, only speed.
// When the non-durable tail outgrows UNSYNCED_REWRITE_BYTES_MAX the writer stops keeping it
// and the next durable batch falls back to write + fdatasync (two pool operations).
// Non-durable batches up to SYNC_WRITE_BYTES_MAX are written synchronously through `file` (a
// page-cache copy, no pool operation); the flush loop runs one batch at a time, so no other
// write of this WAL is in flight meanwhile.
// Durable batches up to `foregroundDurableBytesMax` are also written on the calling thread:
// one O_DSYNC pwrite that blocks the event loop for the disk flush, as etcd's raft goroutine
// blocks on its fsync. Such small batches come from a member with few writers in flight,
// where the loop has nothing else to do meanwhile, and the thread-pool write would cost two
// cross-thread wake-ups per batch (measured with one client: 262 µs of main-thread CPU per
// put, of which idle vCPUs waking up are a large part; docs/PERFORMANCE.md). Larger batches
// keep the pool write, so under load the loop goes on reading requests during the flush.
import path from 'node:path';
import { walAssert } from './errors';
import { FrameEncoder } from './frame-encoder';
import { writeFully, writeFullySync, type WalFile, type WalFileSystem } from './fs';
import { SegmentAllocator, fillWithZeros, type SpareFile } from './segment-allocator';
import { firstSegmentFor, segmentFileName, TEMP_SUFFIX, type SegmentName } from './segments';
import { isEmptyHardState, type HardState, type WalMetadata } from './types';

/** Non-durable bytes kept for rewriting in front of the next durable batch. */
export const UNSYNCED_REWRITE_BYTES_MAX = 256 * 1024;

/** Non-durable writes up to this size are written on the event-loop thread (a page-cache copy). */
const SYNC_WRITE_BYTES_MAX = 64 * 1024;

/** Default of SegmentWriterConfig.foregroundDurableBytesMax: a handful of small puts. */
export const FOREGROUND_DURABLE_BYTES_MAX = 4 * 1024;

/** How a flush made its data durable: 'none' (nothing was pending), one O_DSYNC write, or fdatasync. */
export type DurableVia = 'none' | 'dsync-write' | 'fdatasync';

export interface SegmentWriterConfig {
  fs: WalFileSystem;
  dir: string;
  segmentBytes: number;
  metadata: WalMetadata;
  onFsync?: (durationSeconds: number) => void;
  /** Durable writes up to this many bytes block the calling thread (0: never). */
  foregroundDurableBytesMax?: number;
}

export interface SegmentWriterState {
  segments: SegmentName[];
  /** The active segment, opened plain; the writer opens its O_DSYNC twin itself. */
  file: WalFile;
  /** Where the next frame goes: just past the last valid frame of the active segment. */
  offset: number;
  /** Every byte of the active segment below this is durable (the caller synced it). */
  syncedOffset: number;
  /** bodyCrc of the last frame in the active segment. */
  lastCrc: number;
}

/** What a new segment's header records must carry; supplied by the WAL at cut time. */
export interface CutState {
  lastIndex: number;
  hardState: HardState;
}

export class SegmentWriter {
  private segments: SegmentName[];
  private file: WalFile;
  private dsyncFile: WalFile;
  private offset: number;
  private syncedOffset: number;
  /** Copies of the non-durable writes since syncedOffset, or undefined once too many to keep. */
  private unsynced: Buffer[] | undefined = [];
  private unsyncedBytes = 0;
  private lastCrc: number;
  private readonly allocator: SegmentAllocator;

  private constructor(
    private readonly config: SegmentWriterConfig,
    state: SegmentWriterState,
    dsyncFile: WalFile,
  ) {
    walAssert(state.segments.length > 0, 'a segment writer needs an active segment');
    walAssert(state.syncedOffset === state.offset, 'a segment writer starts with its segment synced');
    this.segments = state.segments;
    this.file = state.file;
    this.dsyncFile = dsyncFile;
    this.offset = state.offset;
    this.syncedOffset = state.syncedOffset;
    this.lastCrc = state.lastCrc;
    this.allocator = new SegmentAllocator(config);
  }

  /** Takes over `state.file` (closing it if the O_DSYNC twin cannot be opened). */
  static async start(config: SegmentWriterConfig, state: SegmentWriterState): Promise<SegmentWriter> {
    const active = state.segments[state.segments.length - 1];
    walAssert(active !== undefined, 'a segment writer needs an active segment');
    let dsyncFile: WalFile;
    try {
      dsyncFile = await config.fs.openDataSync(path.join(config.dir, active.fileName));
    } catch (err) {
      await state.file.close();
      throw err;
    }
    return new SegmentWriter(config, state, dsyncFile);
  }

  get activeSegment(): SegmentName {
    return this.segments[this.segments.length - 1]!;
  }

  get segmentNames(): readonly SegmentName[] {
    return this.segments;
  }

  /**
   * Writes encoded frames at the end of the active segment. With `durable`, resolves only
   * once they and everything written before them are on stable storage, normally in one
   * O_DSYNC write; returns how. Without, the frames are written but not synced.
   */
  async write(frames: Uint8Array, lastCrc: number, durable: boolean): Promise<DurableVia> {
    let via: DurableVia = 'none';
    if (!durable) {
      // No pool round trip for a write nobody waits on the disk for (typically raft's
      // commit-only hard state, between a put's fsync and its apply).
      if (frames.length <= SYNC_WRITE_BYTES_MAX) writeFullySync(this.file, frames, frames.length, this.offset);
      else await writeFully(this.file, frames, frames.length, this.offset);
      this.keepUnsynced(frames);
    } else if (this.unsynced) {
      const pending = this.unsynced.length === 0 ? frames : Buffer.concat([...this.unsynced, frames]);
      if (pending.length <= (this.config.foregroundDurableBytesMax ?? FOREGROUND_DURABLE_BYTES_MAX)) {
        this.timedSyncNow(() => writeFullySync(this.dsyncFile, pending, pending.length, this.syncedOffset));
      } else {
        await this.timedSync(() => writeFully(this.dsyncFile, pending, pending.length, this.syncedOffset));
      }
      via = 'dsync-write';
    } else {
      await writeFully(this.file, frames, frames.length, this.offset);
      await this.datasync();
      via = 'fdatasync';
    }
    this.offset += frames.length;
    this.lastCrc = lastCrc;
    if (durable) this.markSynced();
    // Half way through a segment, start zero-filling the next one in the background.
    if (this.offset >= this.config.segmentBytes / 2) this.allocator.prepare();
    return via;
  }

  /** Makes everything written so far durable; nothing to do when it already is. */
  async sync(): Promise<DurableVia> {
    if (this.syncedOffset === this.offset) return 'none';
    return this.write(new Uint8Array(0), this.lastCrc, true);
  }

  /** The active segment reached the size limit: the next batch should go to a new segment. */
  needsCut(): boolean {
    return this.offset >= this.config.segmentBytes;
  }

  /** True when writing `bytes` more will make the active segment due for a cut. */
  needsCutAfter(bytes: number): boolean {
    return this.offset + bytes >= this.config.segmentBytes;
  }

  private keepUnsynced(frames: Uint8Array): void {
    if (!this.unsynced) return;
    this.unsyncedBytes += frames.length;
    if (this.unsyncedBytes > UNSYNCED_REWRITE_BYTES_MAX) this.unsynced = undefined;
    else this.unsynced.push(Buffer.from(frames)); // a copy: the encoder reuses its buffer
  }

  private markSynced(): void {
    this.syncedOffset = this.offset;
    this.unsynced = [];
    this.unsyncedBytes = 0;
  }

  private async timedSync(op: () => Promise<void>): Promise<void> {
    const started = process.hrtime.bigint();
    await op();
    this.config.onFsync?.(Number(process.hrtime.bigint() - started) / 1e9);
  }

  private timedSyncNow(op: () => void): void {
    const started = process.hrtime.bigint();
    op();
    this.config.onFsync?.(Number(process.hrtime.bigint() - started) / 1e9);
  }

  private async datasync(): Promise<void> {
    await this.timedSync(() => this.file.datasync());
  }

  /**
   * Closes the active segment (trimmed to its data and synced, which also makes every
   * earlier write durable) and starts the next one.
   */
  async cut(state: CutState): Promise<void> {
    const active = this.activeSegment;
    await this.file.truncate(this.offset);
    await this.datasync();
    this.markSynced();
    await this.dsyncFile.close();
    await this.file.close();
    const next: SegmentName = {
      seq: active.seq + 1,
      startIndex: Math.max(state.lastIndex + 1, active.startIndex),
      fileName: '',
    };
    next.fileName = segmentFileName(next.seq, next.startIndex);
    const header = encodeSegmentStart(next, this.lastCrc, this.config.metadata, state.hardState);
    this.file = await installSegment(this.config.fs, await this.allocator.take(), this.config.dir, next.fileName, header);
    this.dsyncFile = await this.config.fs.openDataSync(path.join(this.config.dir, next.fileName));
    this.segments.push(next);
    this.offset = header.length; // installSegment synced the header records
    this.lastCrc = header.lastCrc;
    this.markSynced();
  }

  /**
   * Deletes the segments that hold nothing at or after `index`: all before the last segment
   * whose startIndex <= index. That segment may hold the entries right after a snapshot at
   * `index` and its marker, so it stays; the active segment always stays.
   */
  async releaseTo(index: number): Promise<string[]> {
    const keepFrom = Math.min(firstSegmentFor(this.segments, index), this.segments.length - 1);
    if (keepFrom <= 0) return [];
    const doomed = this.segments.slice(0, keepFrom);
    this.segments = this.segments.slice(keepFrom);
    for (const segment of doomed) await this.config.fs.unlink(path.join(this.config.dir, segment.fileName));
    await this.config.fs.syncDir(this.config.dir);
    return doomed.map((s) => s.fileName);
  }

  async close(): Promise<void> {
    try {
      await this.allocator.dispose();
    } finally {
      await this.dsyncFile.close().finally(() => this.file.close());
    }
  }
}

/** The records every segment starts with, so each segment can be read without its predecessors. */
export function encodeSegmentStart(
  segment: SegmentName,
  previousLastCrc: number,
  metadata: WalMetadata,
  hardState: HardState,
): { bytes: Buffer; length: number; lastCrc: number } {
  const encoder = new FrameEncoder(256);
  encoder.appendSegmentHeader({ seq: segment.seq, startIndex: segment.startIndex, previousLastCrc });
  encoder.appendMetadata(metadata);
  if (!isEmptyHardState(hardState)) encoder.appendHardState(hardState);
  return { bytes: encoder.bytes(), length: encoder.length, lastCrc: encoder.lastCrc };
}

/**
 * Creates a preallocated segment durably, in the foreground (used for a WAL's first segment):
 * zero-filled as <name>.tmp, then installed like a spare.
 */
export async function createSegmentFile(
  config: Pick<SegmentWriterConfig, 'fs' | 'segmentBytes'>,
  dir: string,
  fileName: string,
  header: { bytes: Buffer; length: number },
): Promise<WalFile> {
  const temp = path.join(dir, fileName + TEMP_SUFFIX);
  const file = await config.fs.open(temp, 'w+');
  try {
    await fillWithZeros(file, config.segmentBytes);
  } catch (err) {
    await file.close();
    throw err;
  }
  return installSegment(config.fs, { path: temp, file }, dir, fileName, header);
}

/**
 * Turns a zero-filled spare into the segment `fileName`: header records written and synced,
 * renamed into place, directory synced. Returns the open file.
 */
async function installSegment(
  fs: WalFileSystem,
  spare: SpareFile,
  dir: string,
  fileName: string,
  header: { bytes: Buffer; length: number },
): Promise<WalFile> {
  try {
    await writeFully(spare.file, header.bytes, header.length, 0);
    await spare.file.datasync();
    await fs.rename(spare.path, path.join(dir, fileName));
    await fs.syncDir(dir);
  } catch (err) {
    await spare.file.close();
    throw err;
  }
  return spare.file;
}
