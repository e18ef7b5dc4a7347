// Segment file names and the set of segments in a WAL directory.
//
// Name: `<seq:016x>-<startIndex:016x>.wal`. seq counts segments from 0 without gaps;
// startIndex is the WAL's last entry index + 1 when the segment was cut (0 for the first
// segment), so every entry in the segment has an index >= startIndex — unless Raft later
// overwrote a suffix, which can only lower indexes to entries still above the last snapshot.
import path from 'node:path';
import { walAssert } from './errors';
import type { WalFileSystem } from './fs';

export interface SegmentName {
  seq: number;
  startIndex: number;
  fileName: string;
}

const SEGMENT_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;
export const TEMP_SUFFIX = '.tmp';

export function segmentFileName(seq: number, startIndex: number): string {
  return `${hex16(seq)}-${hex16(startIndex)}.wal`;
}

export function parseSegmentFileName(fileName: string): SegmentName | undefined {
  const match = SEGMENT_NAME.exec(fileName);
  if (!match) return undefined;
  const seq = Number.parseInt(match[1]!, 16);
  const startIndex = Number.parseInt(match[2]!, 16);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(startIndex)) return undefined;
  return { seq, startIndex, fileName };
}

/**
 * The directory's segments in seq order. Refuses a directory whose segments skip a seq or
 * whose start indexes go backwards: a missing segment would silently lose records.
 */
export async function listSegments(fs: WalFileSystem, dir: string): Promise<SegmentName[]> {
  const names = (await fs.readdir(dir)).map(parseSegmentFileName).filter((s): s is SegmentName => s !== undefined);
  names.sort((a, b) => a.seq - b.seq);
  for (let i = 1; i < names.length; i++) {
    const previous = names[i - 1]!;
    const current = names[i]!;
    if (current.seq !== previous.seq + 1 || current.startIndex < previous.startIndex) {
      throw new Error(
        `wal: segments out of sequence in ${dir}: ${previous.fileName} is followed by ${current.fileName}`,
      );
    }
  }
  return names;
}

/**
 * Index in `segments` of the segment where reading from a snapshot at snapshotIndex must
 * start: the last one whose startIndex <= snapshotIndex (its entries may be the ones right
 * after the snapshot). -1 when every segment starts after the snapshot.
 */
export function firstSegmentFor(segments: readonly SegmentName[], snapshotIndex: number): number {
  let found = -1;
  for (let i = 0; i < segments.length; i++) if (segments[i]!.startIndex <= snapshotIndex) found = i;
  return found;
}

export function segmentPath(dir: string, segment: SegmentName): string {
  return path.join(dir, segment.fileName);
}

function hex16(value: number): string {
  walAssert(Number.isSafeInteger(value) && value >= 0, `segment number out of range: ${value}`);
  return value.toString(16).padStart(16, '0');
}
