// Byte-level tests of the frame encoder and the segment scanner (no I/O).
import { crc32c } from '../src/crc32c';
import { WalCorruptionError } from '../src/errors';
import { FRAME_HEADER_BYTES, RecordType, SECTOR_BYTES, frameBytesFor } from '../src/format';
import { scanSegment } from '../src/frame-decoder';
import { FrameEncoder } from '../src/frame-encoder';
import { decodeRecord } from '../src/record-codec';
import { METADATA, makeEntries, payload } from './helpers';

const FILE = '0000000000000000-0000000000000000.wal';

function encodeSample(): { bytes: Uint8Array; frameEnds: number[] } {
  const encoder = new FrameEncoder(16);
  const frameEnds: number[] = [];
  const mark = () => frameEnds.push(encoder.length);
  encoder.appendSegmentHeader({ seq: 3, startIndex: 17, previousLastCrc: 0xdeadbeef });
  mark();
  encoder.appendMetadata(METADATA);
  mark();
  for (const entry of makeEntries(17, 4, { size: 13 })) {
    encoder.appendEntry(entry);
    mark();
  }
  encoder.appendHardState({ term: 2 ** 40, vote: 0xffffffffffffffffn, commit: 19 });
  mark();
  encoder.appendSnapshot({ index: 16, term: 2 });
  mark();
  return { bytes: Uint8Array.from(encoder.bytes()), frameEnds };
}

function scan(bytes: Uint8Array, isLast = true) {
  return scanSegment(bytes, { file: FILE, isLast });
}

describe('frame encoding', () => {
  it('round-trips every record type with 8-byte aligned frames', () => {
    const { bytes, frameEnds } = encodeSample();
    const result = scan(bytes);
    expect(result.validEnd).toBe(bytes.length);
    expect(result.frames.map((f) => f.offset + frameBytesFor(f.body.length))).toEqual(frameEnds);
    for (const end of frameEnds) expect(end % 8).toBe(0);
    const records = result.frames.map((f) => decodeRecord(f, FILE));
    expect(records.map((r) => r.kind)).toEqual([
      'segment', 'metadata', 'entry', 'entry', 'entry', 'entry', 'hardState', 'snapshot',
    ]);
    expect(records[0]).toMatchObject({ header: { formatVersion: 1, seq: 3, startIndex: 17, previousLastCrc: 0xdeadbeef } });
    expect(records[1]).toMatchObject({ metadata: METADATA });
    expect(records[2]).toMatchObject({ entry: { index: 17, term: 1, type: 0, data: payload(17, 13) } });
    expect(records[6]).toMatchObject({ hardState: { term: 2 ** 40, vote: 0xffffffffffffffffn, commit: 19 } });
    expect(records[7]).toMatchObject({ snapshot: { index: 16, term: 2 } });
  });

  it('lays out an entry frame as documented in FORMAT.md', () => {
    const encoder = new FrameEncoder();
    encoder.appendEntry({ index: 0x0102030405, term: 7, type: 1, data: Uint8Array.of(0xaa, 0xbb, 0xcc) });
    const b = encoder.bytes();
    expect(b.length).toBe(40); // 16 header + 20 body + 4 padding
    expect(b.readUInt32LE(0)).toBe(20);
    expect([b[4], b[5], b.readUInt16LE(6)]).toEqual([RecordType.Entry, 4, 0]);
    expect(b.readBigUInt64LE(16)).toBe(0x0102030405n);
    expect(b.readBigUInt64LE(24)).toBe(7n);
    expect([...b.subarray(32, 40)]).toEqual([1, 0xaa, 0xbb, 0xcc, 0, 0, 0, 0]);
  });
});

describe('segment scanning: zero bytes inside valid data', () => {
  it('accepts records whose data holds whole sectors of zeros', () => {
    const encoder = new FrameEncoder();
    const zeros = { index: 1, term: 1, type: 0, data: new Uint8Array(3 * SECTOR_BYTES) };
    encoder.appendEntry(zeros);
    encoder.appendEntry({ index: 2, term: 1, type: 0, data: new Uint8Array(0) });
    const image = new Uint8Array(encoder.length + 4096);
    image.set(encoder.bytes());
    const result = scan(image);
    expect(result.tornTail).toBeUndefined();
    expect(result.frames.map((f) => decodeRecord(f, FILE))).toMatchObject([
      { kind: 'entry', entry: zeros },
      { kind: 'entry', entry: { index: 2, data: new Uint8Array(0) } },
    ]);
  });
});

describe('segment scanning: torn tails', () => {
  const { bytes, frameEnds } = encodeSample();

  it('recovers exactly the complete frames when the file is cut at any byte', () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      const result = scan(bytes.subarray(0, cut));
      const complete = frameEnds.filter((end) => end <= cut);
      expect(result.frames.length).toBe(complete.length);
      expect(result.validEnd).toBe(complete.at(-1) ?? 0);
      expect(result.tornTail === undefined).toBe(cut === result.validEnd);
    }
  });

  it('treats a zero-filled (preallocated) remainder as a clean end', () => {
    const padded = new Uint8Array(bytes.length + 4096);
    padded.set(bytes);
    const result = scan(padded);
    expect(result.validEnd).toBe(bytes.length);
    expect(result.tornTail).toBeUndefined();
  });

  it('recognises a record whose later sector was never written', () => {
    const encoder = new FrameEncoder();
    encoder.appendEntry(makeEntries(1, 1, { size: 100 })[0]!);
    const firstEnd = encoder.length;
    encoder.appendEntry(makeEntries(2, 1, { size: 3 * SECTOR_BYTES })[0]!);
    const image = new Uint8Array(8192);
    image.set(encoder.bytes());
    image.fill(0, SECTOR_BYTES, 2 * SECTOR_BYTES); // the second sector never reached the disk
    const result = scan(image);
    expect(result.validEnd).toBe(firstEnd);
    expect(result.tornTail?.reason).toMatch(/unwritten/);
    expect(() => scan(image, false)).toThrow(WalCorruptionError);
  });

  it('recognises a header split across a sector boundary whose second half is missing', () => {
    const encoder = new FrameEncoder();
    // One entry ending at byte 504 puts the next header across the 512-byte boundary.
    encoder.appendEntry({ index: 1, term: 1, type: 0, data: payload(1, 504 - FRAME_HEADER_BYTES - 17) });
    expect(encoder.length).toBe(504);
    encoder.appendEntry(makeEntries(2, 1)[0]!);
    const image = new Uint8Array(4096);
    image.set(encoder.bytes());
    image.fill(0, 512, 1024);
    expect(scan(image)).toMatchObject({ validEnd: 504, tornTail: { offset: 504 } });
  });
});

describe('segment scanning: corruption', () => {
  const { bytes, frameEnds } = encodeSample();
  // Middle frames: the four entries (frames 2..5), followed by valid records.
  const middle = [frameEnds[1]!, frameEnds[5]!];

  it('refuses any flipped byte in a middle record, naming the file and the frame offset', () => {
    for (let at = middle[0]!; at < middle[1]!; at++) {
      const damaged = Uint8Array.from(bytes);
      damaged[at] = damaged[at]! ^ 0x5a;
      const frameStart = [0, ...frameEnds].filter((start) => start <= at).at(-1)!;
      let error: unknown;
      try {
        scan(damaged);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(WalCorruptionError);
      expect((error as WalCorruptionError).offset).toBe(frameStart);
      expect((error as Error).message).toContain(`${FILE} at byte offset ${frameStart}`);
    }
  });

  it('refuses an impossible length even when its header checksum was recomputed', () => {
    const damaged = Buffer.from(bytes);
    const at = frameEnds[2]!;
    damaged.writeUInt32LE(0x7fffffff, at);
    damaged.writeUInt32LE(crc32c(damaged, 0, at, at + 8), at + 8);
    expect(() => scan(damaged)).toThrow(/impossible record length/);
  });

  it('refuses zero-filled space in a segment that is not the last', () => {
    const padded = new Uint8Array(bytes.length + 64);
    padded.set(bytes);
    expect(() => scan(padded, false)).toThrow(`at byte offset ${bytes.length}`);
  });
});
