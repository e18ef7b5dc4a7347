// Owns the segment files on the write side: the active file and its write offset, cutting
// to a new segment, preallocation and releasing old segments.
//
// Invariants:
// - bytes of the active file at and after `offset` are zero (preallocated and never written,
//   or re-zeroed by open's tail repair), so a crash can only leave a prefix of our writes;
// - a segment file exists under its final name only once it is fully preallocated and its
//   header records are durable (prepared under a *.wal.tmp name, synced, then renamed);
// - `segments` lists the files in the directory in seq order; the last one is active.
import path from 'node:path';
import { walAssert } from './errors';
import { FrameEncoder } from './frame-encoder';
import { writeFully, type WalFile, type WalFileSystem } from './fs';
import { SegmentAllocator, fillWithZeros, type SpareFile } from './segment-allocator';
import { firstSegmentFor, segmentFileName, TEMP_SUFFIX, type SegmentName } from './segments';
import { isEmptyHardState, type HardState, type WalMetadata } from './types';

export interface SegmentWriterConfig {
  fs: WalFileSystem;
  dir: string;
  segmentBytes: number;
  metadata: WalMetadata;
  onFsync?: (durationSeconds: number) => void;
}

export interface SegmentWriterState {
  segments: SegmentName[];
  file: WalFile;
  /** Where the next frame goes: just past the last valid frame of the active segment. */
  offset: number;
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
  private offset: number;
  private lastCrc: number;
  private readonly allocator: SegmentAllocator;

  constructor(
    private readonly config: SegmentWriterConfig,
    state: SegmentWriterState,
  ) {
    walAssert(state.segments.length > 0, 'a segment writer needs an active segment');
    this.segments = state.segments;
    this.file = state.file;
    this.offset = state.offset;
    this.lastCrc = state.lastCrc;
    this.allocator = new SegmentAllocator(config);
  }

  get activeSegment(): SegmentName {
    return this.segments[this.segments.length - 1]!;
  }

  get segmentNames(): readonly SegmentName[] {
    return this.segments;
  }

  /** Writes encoded frames at the end of the active segment (no sync). */
  async write(frames: Uint8Array, lastCrc: number): Promise<void> {
    await writeFully(this.file, frames, frames.length, this.offset);
    this.offset += frames.length;
    this.lastCrc = lastCrc;
    // Half way through a segment, start zero-filling the next one in the background.
    if (this.offset >= this.config.segmentBytes / 2) this.allocator.prepare();
  }

  /** The active segment reached the size limit: the next batch should go to a new segment. */
  needsCut(): boolean {
    return this.offset >= this.config.segmentBytes;
  }

  async datasync(): Promise<void> {
    const started = process.hrtime.bigint();
    await this.file.datasync();
    this.config.onFsync?.(Number(process.hrtime.bigint() - started) / 1e9);
  }

  /**
   * Closes the active segment (trimmed to its data and synced, which also makes every
   * earlier write durable) and starts the next one.
   */
  async cut(state: CutState): Promise<void> {
    const active = this.activeSegment;
    await this.file.truncate(this.offset);
    await this.datasync();
    await this.file.close();
    const next: SegmentName = {
      seq: active.seq + 1,
      startIndex: Math.max(state.lastIndex + 1, active.startIndex),
      fileName: '',
    };
    next.fileName = segmentFileName(next.seq, next.startIndex);
    const header = encodeSegmentStart(next, this.lastCrc, this.config.metadata, state.hardState);
    this.file = await installSegment(this.config.fs, await this.allocator.take(), this.config.dir, next.fileName, header);
    this.segments.push(next);
    this.offset = header.length;
    this.lastCrc = header.lastCrc;
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
      await this.file.close();
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
