// On-disk constants of the WAL format. FORMAT.md is the prose specification; every number
// here is described there.

export const FORMAT_VERSION = 1;

/** Frame header: bodyLength u32 | type u8 | padBytes u8 | reserved u16 | headerCrc u32 | bodyCrc u32. */
export const FRAME_HEADER_BYTES = 16;
/** Bytes of the header covered by headerCrc (bodyLength, type, padBytes, reserved). */
export const HEADER_CRC_COVERS_BYTES = 8;
/** Every frame starts and ends on this alignment; padding bytes are zero. */
export const FRAME_ALIGN_BYTES = 8;
/** Torn-write detection reasons about disk sectors of this size (see FORMAT.md). */
export const SECTOR_BYTES = 512;
/** Largest body a frame may carry; a header claiming more is corruption, not a torn tail. */
export const RECORD_BODY_BYTES_MAX = 64 * 1024 * 1024;

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

export enum RecordType {
  /** First frame of every segment: format version, sequence, start index, previous segment's last CRC. */
  Segment = 1,
  Metadata = 2,
  HardState = 3,
  Snapshot = 4,
  Entry = 5,
}

export const SEGMENT_BODY_BYTES = 24; // version u32 | previousLastCrc u32 | seq u64 | startIndex u64
export const METADATA_BODY_BYTES = 16; // memberId u64 | clusterId u64
export const HARD_STATE_BODY_BYTES = 24; // term u64 | vote u64 | commit u64
export const SNAPSHOT_BODY_BYTES = 16; // index u64 | term u64
export const ENTRY_FIXED_BODY_BYTES = 17; // index u64 | term u64 | entryType u8 | data...

export function paddingFor(bodyLength: number): number {
  return (FRAME_ALIGN_BYTES - ((FRAME_HEADER_BYTES + bodyLength) % FRAME_ALIGN_BYTES)) % FRAME_ALIGN_BYTES;
}

export function frameBytesFor(bodyLength: number): number {
  return FRAME_HEADER_BYTES + bodyLength + paddingFor(bodyLength);
}
