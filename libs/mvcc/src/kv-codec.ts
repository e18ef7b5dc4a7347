// Binary encoding of one history record (the value stored under a revision key).
//
//   offset  size  field
//   0       1     format version (1)
//   1       1     flags: bit 0 = tombstone (a delete; only key and modRevision meaningful)
//   2       4     key length K (u32 BE)
//   6       K     key
//   6+K     8     createRevision (u64 BE)
//   14+K    8     modRevision (u64 BE)
//   22+K    8     version (u64 BE)
//   30+K    8     lease (i64 BE, two's complement, as etcd's int64 lease ID)
//   38+K    rest  value
//
// Fixed-width fields keep decoding branch-free; the record is deterministic for a given
// KeyValue, which the hash functions rely on.
import assert from 'node:assert/strict';
import { assertSafeCounter } from './revision';
import type { KeyValue } from './types';

const FORMAT = 1;
const FLAG_TOMBSTONE = 1;
const HEADER_BYTES = 6;
const FIXED_BYTES = 32;

export interface HistoryRecord {
  kv: KeyValue;
  tombstone: boolean;
}

export function encodeRecord(kv: KeyValue, tombstone: boolean): Buffer {
  const keyBytes = kv.key.length;
  const out = Buffer.allocUnsafe(HEADER_BYTES + keyBytes + FIXED_BYTES + kv.value.length);
  out[0] = FORMAT;
  out[1] = tombstone ? FLAG_TOMBSTONE : 0;
  out.writeUInt32BE(keyBytes, 2);
  out.set(kv.key, HEADER_BYTES);
  let at = HEADER_BYTES + keyBytes;
  for (const counter of [kv.createRevision, kv.modRevision, kv.version]) {
    assertSafeCounter(counter, 'record counter');
    out.writeBigUInt64BE(BigInt(counter), at);
    at += 8;
  }
  out.writeBigInt64BE(BigInt.asIntN(64, kv.lease), at);
  out.set(kv.value, at + 8);
  return out;
}

/** Decodes a record. The returned key and value are views into `bytes`. */
export function decodeRecord(bytes: Buffer): HistoryRecord {
  assert.ok(bytes.length >= HEADER_BYTES + FIXED_BYTES, 'history record truncated');
  assert.equal(bytes[0], FORMAT, 'unknown history record format');
  const keyBytes = bytes.readUInt32BE(2);
  assert.ok(bytes.length >= HEADER_BYTES + keyBytes + FIXED_BYTES, 'history record key truncated');
  const key = bytes.subarray(HEADER_BYTES, HEADER_BYTES + keyBytes);
  const at = HEADER_BYTES + keyBytes;
  const counter = (offset: number): number => {
    const value = Number(bytes.readBigUInt64BE(at + offset));
    assertSafeCounter(value, 'record counter');
    return value;
  };
  const kv: KeyValue = {
    key,
    createRevision: counter(0),
    modRevision: counter(8),
    version: counter(16),
    lease: bytes.readBigInt64BE(at + 24),
    value: bytes.subarray(at + FIXED_BYTES),
  };
  return { kv, tombstone: (bytes[1]! & FLAG_TOMBSTONE) !== 0 };
}

/** A KeyValue's lengths and counters: what its encoded size depends on. */
export interface KeyValueShape {
  keyBytes: number;
  createRevision: number;
  modRevision: number;
  version: number;
  valueBytes: number;
  lease: bigint;
}

/** Lengths and counters of a record, without copying or BigInt work (backend size model). */
export interface RecordShape extends KeyValueShape {
  tombstone: boolean;
}

export function recordShape(bytes: Buffer): RecordShape {
  assert.ok(bytes.length >= HEADER_BYTES + FIXED_BYTES && bytes[0] === FORMAT, 'bad history record');
  const keyBytes = bytes.readUInt32BE(2);
  const at = HEADER_BYTES + keyBytes;
  const u64 = (offset: number): number => bytes.readUInt32BE(at + offset) * 2 ** 32 + bytes.readUInt32BE(at + offset + 4);
  const leaseZero = bytes.readUInt32BE(at + 24) === 0 && bytes.readUInt32BE(at + 28) === 0;
  return {
    tombstone: (bytes[1]! & FLAG_TOMBSTONE) !== 0,
    keyBytes,
    createRevision: u64(0),
    modRevision: u64(8),
    version: u64(16),
    valueBytes: bytes.length - at - FIXED_BYTES,
    lease: leaseZero ? 0n : bytes.readBigInt64BE(at + 24),
  };
}

/** The KeyValue etcd reports for a delete event: key and deleting revision only. */
export function tombstoneKv(key: Buffer, modRevision: number): KeyValue {
  return { key, createRevision: 0, modRevision, version: 0, value: Buffer.alloc(0), lease: 0n };
}
