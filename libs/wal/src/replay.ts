// Reads a WAL directory back into the state Raft needs on restart: the metadata, the last
// hard state and the entries after a snapshot, with later entries overwriting earlier ones
// at the same index (Raft truncates a follower's conflicting suffix that way).
import { WalCorruptionError, WalIndexUnavailableError, WalSnapshotNotFoundError } from './errors';
import { FORMAT_VERSION, FRAME_HEADER_BYTES } from './format';
import { scanSegment, type SegmentScan } from './frame-decoder';
import type { WalFileSystem } from './fs';
import { decodeRecord, type SegmentHeader, type WalRecord } from './record-codec';
import { firstSegmentFor, segmentPath, type SegmentName } from './segments';
import { EMPTY_HARD_STATE, type HardState, type SnapshotMarker, type WalEntry, type WalMetadata } from './types';

export interface SegmentContents {
  segment: SegmentName;
  records: WalRecord[];
  scan: SegmentScan;
  /** Size of the file as read (preallocated segments are larger than their data). */
  fileBytes: number;
  /** bodyCrc of the last valid frame (0 if none): the next segment header repeats it. */
  lastCrc: number;
}

/** Reads and verifies one segment file; throws WalCorruptionError on corruption. */
export async function readSegment(
  fs: WalFileSystem,
  dir: string,
  segment: SegmentName,
  isLast: boolean,
): Promise<SegmentContents> {
  const bytes = await fs.readFile(segmentPath(dir, segment));
  const scan = scanSegment(bytes, { file: segment.fileName, isLast });
  // Entries returned to the caller are views into one buffer per segment. Give them a buffer
  // of mostly valid bytes, so they do not keep a 64 MiB mostly-zero active segment alive.
  const backing = ownBytes(bytes, scan.validEnd);
  const records = scan.frames.map((frame) => {
    const bodyStart = frame.offset + FRAME_HEADER_BYTES;
    return decodeRecord({ ...frame, body: backing.subarray(bodyStart, bodyStart + frame.body.length) }, segment.fileName);
  });
  const first = records[0];
  if (first?.kind !== 'segment') {
    throw new WalCorruptionError(segment.fileName, 0, 'segment does not start with a segment header record');
  }
  checkHeaderMatchesName(first.header, segment);
  return { segment, records, scan, fileBytes: bytes.length, lastCrc: scan.frames.at(-1)?.bodyCrc ?? 0 };
}

/** bytes[0, length) as a plain Uint8Array: a view when that is most of it, else a compact copy. */
function ownBytes(bytes: Uint8Array, length: number): Uint8Array {
  if (length >= bytes.length / 2) return new Uint8Array(bytes.buffer, bytes.byteOffset, length);
  const copy = new Uint8Array(length);
  copy.set(bytes.subarray(0, length));
  return copy;
}

function checkHeaderMatchesName(header: SegmentHeader, segment: SegmentName): void {
  const problem =
    header.formatVersion !== FORMAT_VERSION
      ? `unsupported format version ${header.formatVersion}`
      : header.seq !== segment.seq || header.startIndex !== segment.startIndex
        ? `segment header says seq ${header.seq} start ${header.startIndex}, file name disagrees`
        : '';
  if (problem) throw new WalCorruptionError(segment.fileName, 0, problem);
}

export interface ReplayResult {
  metadata: WalMetadata;
  hardState: HardState;
  /** Entries after the snapshot; entries[i].index === snapshot.index + 1 + i. */
  entries: WalEntry[];
  /** The last segment as read; appending continues at its scan.validEnd. */
  last: SegmentContents;
  /** Highest index the WAL knows of (entries and snapshot markers); the next cut names lastIndex + 1. */
  lastIndex: number;
}

/**
 * Collects state from records in log order; one instance per replay. Entries at or below
 * `snapshot.index` are skipped. With `requireMarker` (open) the marker of that snapshot must
 * be found; without it (readFrom) `snapshot.index` is just "the index before the first entry
 * wanted", and a later marker that jumps past the entries held (an installed snapshot) means
 * the wanted entries are not in the WAL.
 */
class ReplayState {
  metadata: WalMetadata | undefined;
  hardState: HardState = { ...EMPTY_HARD_STATE };
  entries: WalEntry[] = [];
  snapshotFound: boolean;
  lastIndex: number;

  constructor(
    private readonly snapshot: SnapshotMarker,
    private readonly requireMarker = true,
  ) {
    this.snapshotFound = snapshot.index === 0 || !requireMarker;
    this.lastIndex = snapshot.index;
  }

  get snapshotIndex(): SnapshotMarker {
    return this.snapshot;
  }

  apply(record: WalRecord, file: string): void {
    switch (record.kind) {
      case 'entry':
        return this.applyEntry(record.entry, file, record.offset);
      case 'hardState':
        this.hardState = record.hardState;
        return;
      case 'snapshot':
        return this.applySnapshot(record.snapshot, file, record.offset);
      case 'metadata':
        return this.applyMetadata(record.metadata, file, record.offset);
      case 'segment':
        return;
    }
  }

  private applyEntry(entry: WalEntry, file: string, offset: number): void {
    if (entry.index <= this.snapshot.index) return;
    const position = entry.index - this.snapshot.index - 1;
    if (position > this.entries.length) {
      const previous = this.snapshot.index + this.entries.length;
      throw new WalCorruptionError(file, offset, `entry index ${entry.index} leaves a gap after index ${previous}`);
    }
    this.entries.length = position; // drop the suffix this entry overwrites
    this.entries.push(entry);
    this.lastIndex = entry.index;
  }

  private applySnapshot(marker: SnapshotMarker, file: string, offset: number): void {
    const heldThrough = this.snapshot.index + this.entries.length;
    if (!this.requireMarker && marker.index > heldThrough) {
      throw new WalIndexUnavailableError(this.snapshot.index + 1, `snapshot at index ${marker.index} replaced the log`);
    }
    if (this.requireMarker && marker.index === this.snapshot.index) {
      if (marker.term !== this.snapshot.term) {
        throw new WalCorruptionError(
          file,
          offset,
          `snapshot marker at index ${marker.index} has term ${marker.term}, expected ${this.snapshot.term}`,
        );
      }
      this.snapshotFound = true;
    }
    this.lastIndex = Math.max(this.lastIndex, marker.index);
  }

  private applyMetadata(metadata: WalMetadata, file: string, offset: number): void {
    const known = this.metadata;
    if (known && (known.memberId !== metadata.memberId || known.clusterId !== metadata.clusterId)) {
      throw new WalCorruptionError(file, offset, 'metadata differs from earlier segments');
    }
    this.metadata = metadata;
  }
}

/** Replays segments from the one that covers `snapshot` to the end. `segments` is non-empty. */
export async function replay(
  fs: WalFileSystem,
  dir: string,
  segments: readonly SegmentName[],
  snapshot: SnapshotMarker,
): Promise<ReplayResult> {
  const start = firstSegmentFor(segments, snapshot.index);
  if (start < 0) throw new WalSnapshotNotFoundError(snapshot.index, snapshot.term);
  return replayFrom(fs, dir, segments, start, new ReplayState(snapshot));
}

/**
 * Reads the entries from `index` on (later entries overwriting earlier ones, as in open),
 * without needing a snapshot marker and without touching the files: a torn tail just ends the
 * data. Throws WalIndexUnavailableError when the WAL no longer (or never) held entry `index`.
 */
export async function replayFromIndex(
  fs: WalFileSystem,
  dir: string,
  segments: readonly SegmentName[],
  index: number,
): Promise<ReplayResult> {
  if (!Number.isSafeInteger(index) || index < 1) throw new RangeError(`wal: index must be a positive integer, got ${index}`);
  // Entries from `index` on live in the last segment starting at or below it, and later ones.
  const start = firstSegmentFor(segments, index);
  if (start < 0) throw new WalIndexUnavailableError(index, 'released: the oldest segment starts above it');
  const result = await replayFrom(fs, dir, segments, start, new ReplayState({ index: index - 1, term: 0 }, false));
  const first = result.entries[0];
  if (first !== undefined && first.index !== index) throw new WalIndexUnavailableError(index, 'not in the WAL');
  return result;
}

async function replayFrom(
  fs: WalFileSystem,
  dir: string,
  segments: readonly SegmentName[],
  start: number,
  state: ReplayState,
): Promise<ReplayResult> {
  const snapshot = state.snapshotIndex;
  let previous: SegmentContents | undefined;
  for (let i = start; i < segments.length; i++) {
    const contents = await readSegment(fs, dir, segments[i]!, i === segments.length - 1);
    checkChain(previous, contents);
    state.lastIndex = Math.max(state.lastIndex, contents.segment.startIndex - 1);
    for (const record of contents.records) state.apply(record, contents.segment.fileName);
    previous = contents;
  }
  if (!state.snapshotFound) throw new WalSnapshotNotFoundError(snapshot.index, snapshot.term);
  if (!state.metadata || !previous) throw new WalCorruptionError(segments[start]!.fileName, 0, 'no metadata record');
  return {
    metadata: state.metadata,
    hardState: state.hardState,
    entries: state.entries,
    last: previous,
    lastIndex: state.lastIndex,
  };
}

/** A segment header repeats the previous segment's last CRC: a swapped or stale segment shows. */
function checkChain(previous: SegmentContents | undefined, current: SegmentContents): void {
  const header = current.records[0];
  if (!previous || header?.kind !== 'segment') return;
  if (header.header.previousLastCrc !== previous.lastCrc) {
    throw new WalCorruptionError(
      current.segment.fileName,
      0,
      `segment header does not chain to ${previous.segment.fileName} (crc ${header.header.previousLastCrc} != ${previous.lastCrc})`,
    );
  }
}
