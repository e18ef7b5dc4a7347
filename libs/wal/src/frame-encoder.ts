// Encodes records into frames in one reusable, growable buffer. The group-commit writer
// encodes a whole batch here and hands it to a single write() call, so the hot path
// allocates nothing per entry except when the buffer has to grow.
import { crc32c } from './crc32c';
import {
  ENTRY_FIXED_BODY_BYTES,
  FORMAT_VERSION,
  FRAME_HEADER_BYTES,
  HARD_STATE_BODY_BYTES,
  HEADER_CRC_COVERS_BYTES,
  METADATA_BODY_BYTES,
  RECORD_BODY_BYTES_MAX,
  RecordType,
  SEGMENT_BODY_BYTES,
  SNAPSHOT_BODY_BYTES,
  frameBytesFor,
  paddingFor,
} from './format';
import type { HardState, SnapshotMarker, WalEntry, WalMetadata } from './types';

const TWO_POW_32 = 0x1_0000_0000;
const INITIAL_CAPACITY_BYTES = 64 * 1024;
const RETAINED_CAPACITY_MAX_BYTES = 4 * 1024 * 1024;

export class FrameEncoder {
  private buf: Buffer;
  /** Bytes of encoded frames in buf; always a multiple of FRAME_ALIGN_BYTES. */
  private used = 0;
  /** bodyCrc of the last frame encoded (0 when none yet); carried into the next segment header. */
  lastCrc = 0;

  constructor(initialCapacityBytes = INITIAL_CAPACITY_BYTES) {
    this.buf = Buffer.alloc(initialCapacityBytes);
  }

  get length(): number {
    return this.used;
  }

  /** The encoded frames. Valid until the next append or reset. */
  bytes(): Buffer {
    return this.buf.subarray(0, this.used);
  }

  /** Empties the buffer; one that grew for an unusually large batch is let go. */
  reset(): void {
    this.used = 0;
    if (this.buf.length > RETAINED_CAPACITY_MAX_BYTES) this.buf = Buffer.alloc(INITIAL_CAPACITY_BYTES);
  }

  appendEntry(entry: WalEntry): void {
    const bodyLength = ENTRY_FIXED_BODY_BYTES + entry.data.length;
    const body = this.beginFrame(bodyLength);
    writeU64(this.buf, body, entry.index);
    writeU64(this.buf, body + 8, entry.term);
    this.buf[body + 16] = entry.type;
    this.buf.set(entry.data, body + ENTRY_FIXED_BODY_BYTES);
    this.endFrame(RecordType.Entry, bodyLength);
  }

  appendHardState(hs: HardState): void {
    const body = this.beginFrame(HARD_STATE_BODY_BYTES);
    writeU64(this.buf, body, hs.term);
    this.buf.writeBigUInt64LE(hs.vote, body + 8);
    writeU64(this.buf, body + 16, hs.commit);
    this.endFrame(RecordType.HardState, HARD_STATE_BODY_BYTES);
  }

  appendMetadata(metadata: WalMetadata): void {
    const body = this.beginFrame(METADATA_BODY_BYTES);
    this.buf.writeBigUInt64LE(metadata.memberId, body);
    this.buf.writeBigUInt64LE(metadata.clusterId, body + 8);
    this.endFrame(RecordType.Metadata, METADATA_BODY_BYTES);
  }

  appendSnapshot(marker: SnapshotMarker): void {
    const body = this.beginFrame(SNAPSHOT_BODY_BYTES);
    writeU64(this.buf, body, marker.index);
    writeU64(this.buf, body + 8, marker.term);
    this.endFrame(RecordType.Snapshot, SNAPSHOT_BODY_BYTES);
  }

  appendSegmentHeader(header: { seq: number; startIndex: number; previousLastCrc: number }): void {
    const body = this.beginFrame(SEGMENT_BODY_BYTES);
    this.buf.writeUInt32LE(FORMAT_VERSION, body);
    this.buf.writeUInt32LE(header.previousLastCrc >>> 0, body + 4);
    writeU64(this.buf, body + 8, header.seq);
    writeU64(this.buf, body + 16, header.startIndex);
    this.endFrame(RecordType.Segment, SEGMENT_BODY_BYTES);
  }

  /** Reserves a frame for a body of bodyLength bytes; returns the body's offset in buf. */
  private beginFrame(bodyLength: number): number {
    if (bodyLength > RECORD_BODY_BYTES_MAX) throw new Error(`wal: record body of ${bodyLength} bytes exceeds the maximum`);
    this.ensureCapacity(frameBytesFor(bodyLength));
    return this.used + FRAME_HEADER_BYTES;
  }

  /** Writes padding and the header of the frame whose body was just written, and commits it. */
  private endFrame(type: RecordType, bodyLength: number): void {
    const start = this.used;
    const bodyStart = start + FRAME_HEADER_BYTES;
    const pad = paddingFor(bodyLength);
    this.buf.fill(0, bodyStart + bodyLength, bodyStart + bodyLength + pad);
    const bodyCrc = crc32c(this.buf, 0, bodyStart, bodyStart + bodyLength);
    this.buf.writeUInt32LE(bodyLength, start);
    this.buf[start + 4] = type;
    this.buf[start + 5] = pad;
    this.buf.writeUInt16LE(0, start + 6);
    this.buf.writeUInt32LE(crc32c(this.buf, 0, start, start + HEADER_CRC_COVERS_BYTES), start + 8);
    this.buf.writeUInt32LE(bodyCrc, start + 12);
    this.used = bodyStart + bodyLength + pad;
    this.lastCrc = bodyCrc;
  }

  private ensureCapacity(frameBytes: number): void {
    const needed = this.used + frameBytes;
    if (needed <= this.buf.length) return;
    let capacity = this.buf.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = Buffer.alloc(capacity);
    this.buf.copy(grown, 0, 0, this.used);
    this.buf = grown;
  }
}

/** Little-endian u64 from a non-negative safe integer, without BigInt on the hot path. */
function writeU64(buf: Buffer, offset: number, value: number): void {
  // Checked inline (not via walAssert) so the hot path builds no message string.
  if (!(Number.isSafeInteger(value) && value >= 0)) throw new Error(`wal: not a non-negative safe integer: ${value}`);
  buf.writeUInt32LE(value >>> 0, offset);
  buf.writeUInt32LE(Math.floor(value / TWO_POW_32), offset + 4);
}
