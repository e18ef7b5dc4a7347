// keel.internal.Message on the peer wire without the generated protobuf code, for the messages
// every write sends (appends, their acknowledgements, heartbeats). The generated codec builds a
// plain object per message and per entry, a BigInt per 64-bit field and a growing writer with a
// fork per entry: 4.8 µs to encode and 2.1 µs to decode a one-entry append on this machine, and
// a 3-member put sends four such messages (two appends, two acknowledgements). This module
// writes the same bytes the generated encoder writes (fields in field-number order, defaults
// left out, so a member running the generated codec reads them unchanged) in one pass over a
// buffer sized up front, and reads them back with entry data as views into the frame.
//
// Scope: a message with a snapshot is not handled here (encodeMessageWithoutSnapshot is not
// called for one; readMessage returns undefined when it meets field 9) — those are rare and
// keep the generated path. Numbers must be safe integers (raft's indexes and terms are); a
// varint above 2^53 read into a number field is refused, as the generated path's caller does.
import assert from 'node:assert/strict';
import type { Entry, Message } from '@keel/raft';

/** Wire types of the protobuf encoding. */
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** Field numbers of keel.internal.Message and keel.internal.Entry (libs/proto). All are below 16,
 * so every field's tag is one byte (the writer below relies on it). */
const enum MessageField {
  Type = 1,
  To = 2,
  From = 3,
  Term = 4,
  LogTerm = 5,
  Index = 6,
  Entries = 7,
  Commit = 8,
  Snapshot = 9,
  Reject = 10,
  RejectHint = 11,
  Context = 12,
}

const enum EntryField {
  Type = 1,
  Term = 2,
  Index = 3,
  Data = 4,
}

const tag = (field: number, wireType: number): number => (field << 3) | wireType;

const EMPTY = new Uint8Array(0);

function varintSize(value: number): number {
  let size = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

function writeVarint(out: Buffer, at: number, value: number): number {
  while (value >= 128) {
    out[at++] = (value % 128) | 128;
    value = Math.floor(value / 128);
  }
  out[at++] = value;
  return at;
}

/** A member ID's varint bytes (IDs are random 64-bit numbers, mostly above 2^53). Few IDs exist. */
const idVarints = new Map<bigint, Buffer>();

function idVarint(id: bigint): Buffer {
  let bytes = idVarints.get(id);
  if (bytes === undefined) {
    assert.ok(id >= 0n && id < 1n << 64n, `raft wire: node ID ${id} is not a uint64`);
    const out: number[] = [];
    let rest = id;
    while (rest >= 128n) {
      out.push(Number(rest & 127n) | 128);
      rest >>= 7n;
    }
    out.push(Number(rest));
    bytes = Buffer.from(out);
    if (idVarints.size >= 1024) idVarints.clear();
    idVarints.set(id, bytes);
  }
  return bytes;
}

const numberFieldSize = (value: number): number => (value === 0 ? 0 : 1 + varintSize(value));
const bytesFieldSize = (length: number): number => (length === 0 ? 0 : 1 + varintSize(length) + length);

function entryBodySize(e: Entry): number {
  return numberFieldSize(e.type) + numberFieldSize(e.term) + numberFieldSize(e.index) + bytesFieldSize(e.data.length);
}

function writeNumberField(out: Buffer, at: number, field: number, value: number): number {
  if (value === 0) return at;
  out[at++] = tag(field, VARINT);
  return writeVarint(out, at, value);
}

function writeBytesField(out: Buffer, at: number, field: number, bytes: Uint8Array): number {
  if (bytes.length === 0) return at;
  out[at++] = tag(field, LENGTH_DELIMITED);
  at = writeVarint(out, at, bytes.length);
  out.set(bytes, at);
  return at + bytes.length;
}

function writeIdField(out: Buffer, at: number, field: number, id: bigint): number {
  if (id === 0n) return at;
  out[at++] = tag(field, VARINT);
  const bytes = idVarint(id);
  bytes.copy(out, at);
  return at + bytes.length;
}

function isWireNumber(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** Whether encodeMessageWithoutSnapshot can write `m` (else: the generated path). */
export function fitsRaftWire(m: Message): boolean {
  if (m.snapshot !== undefined) return false;
  if (!isWireNumber(m.type) || !isWireNumber(m.term) || !isWireNumber(m.logTerm) || !isWireNumber(m.index)) return false;
  if (!isWireNumber(m.commit) || !isWireNumber(m.rejectHint)) return false;
  for (const e of m.entries) if (!isWireNumber(e.type) || !isWireNumber(e.term) || !isWireNumber(e.index)) return false;
  return true;
}

/** The bytes of `m` as keel.internal.Message; `m` must pass fitsRaftWire. */
export function encodeMessageWithoutSnapshot(m: Message): Buffer {
  const context = m.context ?? EMPTY;
  let size = numberFieldSize(m.type);
  size += m.to === 0n ? 0 : 1 + idVarint(m.to).length;
  size += m.from === 0n ? 0 : 1 + idVarint(m.from).length;
  size += numberFieldSize(m.term) + numberFieldSize(m.logTerm) + numberFieldSize(m.index);
  for (const e of m.entries) {
    const body = entryBodySize(e);
    size += 1 + varintSize(body) + body;
  }
  size += numberFieldSize(m.commit) + (m.reject ? 2 : 0) + numberFieldSize(m.rejectHint) + bytesFieldSize(context.length);

  const out = Buffer.allocUnsafe(size);
  let at = writeNumberField(out, 0, MessageField.Type, m.type);
  at = writeIdField(out, at, MessageField.To, m.to);
  at = writeIdField(out, at, MessageField.From, m.from);
  at = writeNumberField(out, at, MessageField.Term, m.term);
  at = writeNumberField(out, at, MessageField.LogTerm, m.logTerm);
  at = writeNumberField(out, at, MessageField.Index, m.index);
  for (const e of m.entries) {
    out[at++] = tag(MessageField.Entries, LENGTH_DELIMITED);
    at = writeVarint(out, at, entryBodySize(e));
    at = writeNumberField(out, at, EntryField.Type, e.type);
    at = writeNumberField(out, at, EntryField.Term, e.term);
    at = writeNumberField(out, at, EntryField.Index, e.index);
    at = writeBytesField(out, at, EntryField.Data, e.data);
  }
  at = writeNumberField(out, at, MessageField.Commit, m.commit);
  if (m.reject) {
    out[at++] = tag(MessageField.Reject, VARINT);
    out[at++] = 1;
  }
  at = writeNumberField(out, at, MessageField.RejectHint, m.rejectHint);
  at = writeBytesField(out, at, MessageField.Context, context);
  assert.equal(at, size, 'raft wire: encoded size differs from the computed size');
  return out;
}

/** Bits 49-63 of a node ID: 15 bits. */
const HIGH_ID_SPAN = 2 ** 15;

/**
 * The node IDs read lately, by their two halves. A cluster has a handful of members, so nearly
 * every ID on the wire is one seen before and is returned without allocating; building each
 * one as a BigInt, bit group by bit group, made ~30 BigInts per ID, 9-10% of everything a
 * member allocated per 1-client put (sampling heap profile). Returning one BigInt for equal
 * values is safe: BigInts are immutable.
 */
class NodeIdCache {
  private readonly lows: number[] = [];
  private readonly highs: number[] = [];
  private readonly ids: bigint[] = [];
  private next = 0;

  constructor(private readonly size: number) {}

  /** The ID low + high * 2^49, where low < 2^49 and high < 2^15. */
  of(low: number, high: number): bigint {
    for (let i = 0; i < this.ids.length; i++) {
      if (this.lows[i] === low && this.highs[i] === high) return this.ids[i]!;
    }
    const id = BigInt(low) | (BigInt(high) << 49n);
    this.lows[this.next] = low;
    this.highs[this.next] = high;
    this.ids[this.next] = id;
    this.next = (this.next + 1) % this.size;
    return id;
  }
}

const nodeIds = new NodeIdCache(16);

/** Reads protobuf fields from `bytes[start, end)`; throws on truncated or malformed input. */
class FieldReader {
  at: number;

  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    private readonly end: number,
  ) {
    this.at = start;
  }

  get done(): boolean {
    return this.at >= this.end;
  }

  /** A varint as a number; refuses values above 2^53 (raft's numbers never are). */
  number(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const byte = this.byte();
      value += (byte & 127) * scale;
      if (byte < 128) {
        if (!Number.isSafeInteger(value)) throw new Error(`raft codec: ${value} exceeds 2^53`);
        return value;
      }
      scale *= 128;
    }
    throw new Error('raft wire: varint longer than 10 bytes');
  }

  /**
   * A varint as a uint64 bigint (node IDs), read as two numbers (bits 0-48 and 49-63) and
   * looked up in `nodeIds`; bits past 63 are dropped, as a protobuf uint64 reader does.
   */
  uint64(): bigint {
    let low = 0;
    let high = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const bits = this.byte();
      if (i < 7) low += (bits & 127) * scale;
      else high += (bits & 127) * scale;
      if (bits < 128) return nodeIds.of(low, high % HIGH_ID_SPAN);
      scale = i === 6 ? 1 : scale * 128;
    }
    throw new Error('raft wire: varint longer than 10 bytes');
  }

  /** A length-delimited field's bounds; the reader moves past it. */
  span(): [number, number] {
    const length = this.number();
    const start = this.at;
    if (length > this.end - start) throw new Error('raft wire: field runs past the end of the message');
    this.at = start + length;
    return [start, this.at];
  }

  skip(wireType: number): void {
    if (wireType === VARINT) this.number();
    else if (wireType === LENGTH_DELIMITED) this.span();
    else if (wireType === FIXED64) this.advance(8);
    else if (wireType === FIXED32) this.advance(4);
    else throw new Error(`raft wire: unsupported wire type ${wireType}`);
  }

  private advance(n: number): void {
    if (n > this.end - this.at) throw new Error('raft wire: field runs past the end of the message');
    this.at += n;
  }

  private byte(): number {
    if (this.at >= this.end) throw new Error('raft wire: truncated varint');
    return this.bytes[this.at++]!;
  }
}

function readEntry(bytes: Uint8Array, start: number, end: number): Entry {
  const entry: Entry = { type: 0, term: 0, index: 0, data: EMPTY };
  const reader = new FieldReader(bytes, start, end);
  while (!reader.done) {
    const key = reader.number();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (field === EntryField.Type && wireType === VARINT) entry.type = reader.number();
    else if (field === EntryField.Term && wireType === VARINT) entry.term = reader.number();
    else if (field === EntryField.Index && wireType === VARINT) entry.index = reader.number();
    else if (field === EntryField.Data && wireType === LENGTH_DELIMITED) entry.data = bytes.subarray(...reader.span());
    else reader.skip(wireType);
  }
  return entry;
}

/**
 * Reads a keel.internal.Message; undefined when it carries a snapshot (the generated path
 * reads those). Unknown fields are skipped, as protobuf readers do.
 */
export function readMessage(bytes: Uint8Array): Message | undefined {
  const m: Message = { type: 0, to: 0n, from: 0n, term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0 };
  const reader = new FieldReader(bytes, 0, bytes.length);
  while (!reader.done) {
    const key = reader.number();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (field === MessageField.Snapshot) return undefined;
    if (wireType === LENGTH_DELIMITED && field === MessageField.Entries) {
      const [start, end] = reader.span();
      m.entries.push(readEntry(bytes, start, end));
    } else if (wireType === LENGTH_DELIMITED && field === MessageField.Context) {
      const context = bytes.subarray(...reader.span());
      if (context.length > 0) m.context = context;
    } else if (wireType !== VARINT) {
      reader.skip(wireType);
    } else {
      readVarintField(reader, m, field);
    }
  }
  return m;
}

function readVarintField(reader: FieldReader, m: Message, field: number): void {
  switch (field) {
    case MessageField.Type:
      m.type = reader.number();
      return;
    case MessageField.To:
      m.to = reader.uint64();
      return;
    case MessageField.From:
      m.from = reader.uint64();
      return;
    case MessageField.Term:
      m.term = reader.number();
      return;
    case MessageField.LogTerm:
      m.logTerm = reader.number();
      return;
    case MessageField.Index:
      m.index = reader.number();
      return;
    case MessageField.Commit:
      m.commit = reader.number();
      return;
    case MessageField.Reject:
      m.reject = reader.number() !== 0;
      return;
    case MessageField.RejectHint:
      m.rejectHint = reader.number();
      return;
    default:
      reader.number();
  }
}
