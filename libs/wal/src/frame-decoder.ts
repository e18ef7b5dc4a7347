// Splits one segment file's bytes into frames and decides where valid data ends. Pure: no
// I/O, so every byte position can be tested directly.
//
// Classification of the first frame that does not verify (FORMAT.md, "Torn tails"):
// in the LAST segment it is a torn tail — and everything from its offset on is discarded —
// when it shows the signature of an interrupted write into zero-preallocated space:
//   - the header bytes are all zero (never written),
//   - the file ends inside the frame (truncated file),
//   - the header straddles a sector boundary and its second half is zero,
//   - the header verifies but the body does not, and a sector's share of the body is all zero.
// Anything else (a flipped bit, an impossible length or type, a bad CRC with no unwritten
// sector) is corruption and is refused, as is any bad frame in a segment that is not the last.
import { crc32c } from './crc32c';
import { WalCorruptionError } from './errors';
import {
  FRAME_HEADER_BYTES,
  HEADER_CRC_COVERS_BYTES,
  RECORD_BODY_BYTES_MAX,
  RecordType,
  SECTOR_BYTES,
  paddingFor,
} from './format';

export interface RawFrame {
  type: RecordType;
  /** Byte offset of the frame in its file. */
  offset: number;
  body: Uint8Array;
  bodyCrc: number;
}

export interface SegmentScan {
  frames: RawFrame[];
  /** Offset just past the last valid frame: where appending continues. */
  validEnd: number;
  /** Set when data after validEnd was recognised as a torn tail (not set for a clean end). */
  tornTail?: { offset: number; reason: string };
}

export interface ScanOptions {
  /** File name used in error messages. */
  file: string;
  /** Only the last segment may end in a torn tail or zero-filled preallocated space. */
  isLast: boolean;
}

type FrameCheck = { ok: true; frame: RawFrame; end: number } | { ok: false; torn: boolean; reason: string };

export function scanSegment(bytes: Uint8Array, options: ScanOptions): SegmentScan {
  const frames: RawFrame[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const check = checkFrame(bytes, offset);
    if (!check.ok) {
      if (check.torn && options.isLast) {
        // Nothing but zeros after the last frame is the normal end of a preallocated segment.
        if (isZero(bytes, offset, bytes.length)) return { frames, validEnd: offset };
        return { frames, validEnd: offset, tornTail: { offset, reason: check.reason } };
      }
      const where = options.isLast ? check.reason : `${check.reason} (in a segment that is not the last)`;
      throw new WalCorruptionError(options.file, offset, where);
    }
    frames.push(check.frame);
    offset = check.end;
  }
  return { frames, validEnd: offset };
}

function checkFrame(bytes: Uint8Array, offset: number): FrameCheck {
  const available = bytes.length - offset;
  if (available < FRAME_HEADER_BYTES) {
    const zero = isZero(bytes, offset, bytes.length);
    return { ok: false, torn: true, reason: zero ? 'zero-filled space' : 'incomplete frame header at end of file' };
  }
  if (isZero(bytes, offset, offset + FRAME_HEADER_BYTES)) {
    return { ok: false, torn: true, reason: 'zero-filled space (unwritten)' };
  }
  const bodyLength = readU32(bytes, offset);
  const type = bytes[offset + 4]!;
  const pad = bytes[offset + 5]!;
  const headerCrc = readU32(bytes, offset + 8);
  if (crc32c(bytes, 0, offset, offset + HEADER_CRC_COVERS_BYTES) !== headerCrc) {
    return { ok: false, torn: headerHalfUnwritten(bytes, offset), reason: 'frame header checksum mismatch' };
  }
  const impossible = impossibleHeader(bodyLength, type, pad, bytes[offset + 6]! | (bytes[offset + 7]! << 8));
  if (impossible) return { ok: false, torn: false, reason: impossible };
  const bodyStart = offset + FRAME_HEADER_BYTES;
  const bodyEnd = bodyStart + bodyLength;
  const end = bodyEnd + pad;
  if (end > bytes.length) return { ok: false, torn: true, reason: 'file ends inside the record' };
  const bodyCrc = readU32(bytes, offset + 12);
  if (crc32c(bytes, 0, bodyStart, bodyEnd) !== bodyCrc) {
    const torn = hasUnwrittenSector(bytes, bodyStart, bodyEnd);
    return { ok: false, torn, reason: torn ? 'record body partly unwritten' : 'record body checksum mismatch' };
  }
  if (!isZero(bytes, bodyEnd, end)) return { ok: false, torn: false, reason: 'non-zero padding' };
  return { ok: true, frame: { type, offset, body: bytes.subarray(bodyStart, bodyEnd), bodyCrc }, end };
}

/** Describes why a header that passed its checksum still cannot be valid, or returns ''. */
function impossibleHeader(bodyLength: number, type: number, pad: number, reserved: number): string {
  if (bodyLength > RECORD_BODY_BYTES_MAX) return `impossible record length ${bodyLength}`;
  if (type < RecordType.Segment || type > RecordType.Entry) return `unknown record type ${type}`;
  if (pad !== paddingFor(bodyLength)) return `padding ${pad} does not match length ${bodyLength}`;
  if (reserved !== 0) return 'reserved header bits set';
  return '';
}

/**
 * A header written across a sector boundary whose second sector never reached the disk:
 * the bytes from the boundary on are zero.
 */
function headerHalfUnwritten(bytes: Uint8Array, offset: number): boolean {
  const boundary = (Math.floor(offset / SECTOR_BYTES) + 1) * SECTOR_BYTES;
  if (boundary >= offset + FRAME_HEADER_BYTES) return false;
  return isZero(bytes, boundary, offset + FRAME_HEADER_BYTES);
}

/**
 * True when some sector's share of the body [bodyStart, bodyEnd) is all zero, not counting the
 * sector holding the header's last byte (written together with the header, which verified).
 */
function hasUnwrittenSector(bytes: Uint8Array, bodyStart: number, bodyEnd: number): boolean {
  const firstSectorAfterHeader = (Math.floor((bodyStart - 1) / SECTOR_BYTES) + 1) * SECTOR_BYTES;
  for (let sector = firstSectorAfterHeader; sector < bodyEnd; sector += SECTOR_BYTES) {
    if (isZero(bytes, Math.max(sector, bodyStart), Math.min(bodyEnd, sector + SECTOR_BYTES))) return true;
  }
  return false;
}

function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

const ZEROS = new Uint8Array(64 * 1024);

/** bytes[start, end) are all zero. Compares whole chunks natively: the tail can be 64 MiB. */
function isZero(bytes: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (end - i >= ZEROS.length) {
    if (Buffer.compare(bytes.subarray(i, i + ZEROS.length), ZEROS) !== 0) return false;
    i += ZEROS.length;
  }
  for (; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}
