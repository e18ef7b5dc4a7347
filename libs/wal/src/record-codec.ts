// Decodes frame bodies into records. Body layouts are in FORMAT.md ("Record bodies"); the
// encoding side lives in frame-encoder.ts so the hot path writes straight into its buffer.
import { WalCorruptionError } from './errors';
import type { RawFrame } from './frame-decoder';
import {
  ENTRY_FIXED_BODY_BYTES,
  HARD_STATE_BODY_BYTES,
  METADATA_BODY_BYTES,
  RecordType,
  SEGMENT_BODY_BYTES,
  SNAPSHOT_BODY_BYTES,
} from './format';
import type { HardState, SnapshotMarker, WalEntry, WalMetadata } from './types';

export interface SegmentHeader {
  formatVersion: number;
  previousLastCrc: number;
  seq: number;
  startIndex: number;
}

export type WalRecord =
  | { kind: 'segment'; offset: number; header: SegmentHeader }
  | { kind: 'metadata'; offset: number; metadata: WalMetadata }
  | { kind: 'hardState'; offset: number; hardState: HardState }
  | { kind: 'snapshot'; offset: number; snapshot: SnapshotMarker }
  | { kind: 'entry'; offset: number; entry: WalEntry };

const TWO_POW_32 = 0x1_0000_0000;
const SAFE_HIGH_WORD_LIMIT = 0x20_0000; // 2^53 / 2^32

/**
 * Decodes one verified frame. Entry data is a view into the frame's buffer (readSegment
 * gives each segment a buffer of just its valid bytes). Entries are the bulk of a replay, so
 * they are decoded without copies, DataViews or closures.
 */
export function decodeRecord(frame: RawFrame, file: string): WalRecord {
  const { body, offset } = frame;
  switch (frame.type) {
    case RecordType.Entry: {
      if (body.length < ENTRY_FIXED_BODY_BYTES) throw corrupt(frame, file, `entry record body too short (${body.length} bytes)`);
      const entry = {
        index: readU64(body, 0, frame, file),
        term: readU64(body, 8, frame, file),
        type: body[16]!,
        data: body.subarray(ENTRY_FIXED_BODY_BYTES),
      };
      return { kind: 'entry', offset, entry };
    }
    case RecordType.HardState: {
      expectLength(frame, file, HARD_STATE_BODY_BYTES, 'hard state');
      const hardState = { term: readU64(body, 0, frame, file), vote: readBigU64(body, 8), commit: readU64(body, 16, frame, file) };
      return { kind: 'hardState', offset, hardState };
    }
    case RecordType.Snapshot:
      expectLength(frame, file, SNAPSHOT_BODY_BYTES, 'snapshot');
      return { kind: 'snapshot', offset, snapshot: { index: readU64(body, 0, frame, file), term: readU64(body, 8, frame, file) } };
    case RecordType.Metadata:
      expectLength(frame, file, METADATA_BODY_BYTES, 'metadata');
      return { kind: 'metadata', offset, metadata: { memberId: readBigU64(body, 0), clusterId: readBigU64(body, 8) } };
    case RecordType.Segment: {
      expectLength(frame, file, SEGMENT_BODY_BYTES, 'segment');
      const header = {
        formatVersion: readU32(body, 0),
        previousLastCrc: readU32(body, 4),
        seq: readU64(body, 8, frame, file),
        startIndex: readU64(body, 16, frame, file),
      };
      return { kind: 'segment', offset, header };
    }
  }
  throw corrupt(frame, file, `unknown record type ${String(frame.type)}`);
}

function corrupt(frame: RawFrame, file: string, reason: string): WalCorruptionError {
  return new WalCorruptionError(file, frame.offset, reason);
}

function expectLength(frame: RawFrame, file: string, bytes: number, what: string): void {
  if (frame.body.length !== bytes) {
    throw corrupt(frame, file, `${what} record body has ${frame.body.length} bytes, expected ${bytes}`);
  }
}

function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/** A u64 that must be a safe integer (a term or an index). */
function readU64(bytes: Uint8Array, at: number, frame: RawFrame, file: string): number {
  const high = readU32(bytes, at + 4);
  if (high >= SAFE_HIGH_WORD_LIMIT) throw corrupt(frame, file, `value at body offset ${at} exceeds 2^53`);
  return high * TWO_POW_32 + readU32(bytes, at);
}

function readBigU64(bytes: Uint8Array, at: number): bigint {
  return (BigInt(readU32(bytes, at + 4)) << 32n) | BigInt(readU32(bytes, at));
}
