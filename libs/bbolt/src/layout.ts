// bbolt's on-disk layout (version 2, little-endian as written on amd64/arm64), in one place.
//
// A file is an array of pages of `pageSize` bytes, numbered from 0. Every page starts with
// a 16-byte header:
//
//   offset  size  field
//   0       8     page id (u64)
//   8       2     flags: 0x01 branch, 0x02 leaf, 0x04 meta, 0x10 freelist
//   10      2     count: elements on the page
//   12      4     overflow: extra pages this page runs on into (a node of n pages has n-1)
//
// Pages 0 and 1 are meta pages (the reader trusts the valid one with the higher txid):
//
//   16 magic u32 (0xED0CDAED)  20 version u32 (2)  24 pageSize u32  28 flags u32
//   32 root bucket: root page u64, sequence u64    48 freelist page u64
//   56 pgid u64: high-water mark, the number of pages the database uses
//   64 txid u64   72 checksum u64: FNV-1a 64 of the 56 meta bytes before it
//
// Leaf pages hold `count` 16-byte elements {flags u32, pos u32, ksize u32, vsize u32}, then
// the key and value bytes; `pos` is the distance from the element's own first byte to its
// key. Element flag 0x01 marks a value that is a bucket (a 16-byte bucket header {root page
// u64, sequence u64}, followed, when root is 0, by the bucket's whole leaf page inline).
// Branch pages hold 16-byte elements {pos u32, ksize u32, child page u64}, then the keys;
// each key is the first key under that child. Keys are strictly increasing on every page
// and from page to page. A freelist page holds `count` u64 page ids (0xFFFF in count means
// the real count is the first u64).
import assert from 'node:assert/strict';

export const MAGIC = 0xed0cdaed;
export const FORMAT_VERSION = 2;
export const DEFAULT_PAGE_SIZE = 4096;

export const PAGE_HEADER_BYTES = 16;
export const LEAF_ELEMENT_BYTES = 16;
export const BRANCH_ELEMENT_BYTES = 16;
export const BUCKET_HEADER_BYTES = 16;
/** Meta fields covered by the checksum (everything before it). */
export const META_CHECKSUMMED_BYTES = 56;
export const META_BYTES = 64;

export const PageFlag = {
  branch: 0x01,
  leaf: 0x02,
  meta: 0x04,
  freelist: 0x10,
} as const;

/** Leaf element flag: the value is a nested bucket. */
export const BUCKET_LEAF_FLAG = 0x01;

/** bbolt refuses longer keys and values; so does this writer. */
export const MAX_KEY_BYTES = 32768;
export const MAX_VALUE_BYTES = 2 ** 31 - 2;
/** A page's element count is a u16 and bbolt asserts it stays below 0xFFFF. */
export const MAX_ELEMENTS_PER_PAGE = 0xfffe;
/** Meta freelist value meaning "no freelist stored" (bbolt's NoFreelistSync). */
export const NO_FREELIST = 0xffffffffffffffffn;

export interface PageHeader {
  id: number;
  flags: number;
  count: number;
  overflow: number;
}

export interface Meta {
  pageSize: number;
  flags: number;
  root: number;
  rootSequence: bigint;
  /** Page of the freelist, or undefined when none is stored. */
  freelist: number | undefined;
  /** High-water mark: pages [0, pgid) belong to the database. */
  pgid: number;
  txid: bigint;
}

export function writePageHeader(target: Buffer, header: PageHeader, at = 0): void {
  target.writeBigUInt64LE(BigInt(header.id), at);
  target.writeUInt16LE(header.flags, at + 8);
  target.writeUInt16LE(header.count, at + 10);
  target.writeUInt32LE(header.overflow, at + 12);
}

export function readPageHeader(source: Buffer, at = 0): PageHeader {
  assert.ok(source.length - at >= PAGE_HEADER_BYTES, 'page header truncated');
  return {
    id: safeNumber(source.readBigUInt64LE(at), 'page id'),
    flags: source.readUInt16LE(at + 8),
    count: source.readUInt16LE(at + 10),
    overflow: source.readUInt32LE(at + 12),
  };
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const U64 = (1n << 64n) - 1n;

/** FNV-1a, 64-bit (Go's hash/fnv New64a). */
export function fnv1a64(bytes: Uint8Array): bigint {
  let hash = FNV_OFFSET;
  for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & U64;
  return hash;
}

/** A whole meta page (page header, fields and checksum), `pageSize` bytes long. */
export function encodeMetaPage(meta: Meta, pageId: 0 | 1): Buffer {
  const page = Buffer.alloc(meta.pageSize);
  writePageHeader(page, { id: pageId, flags: PageFlag.meta, count: 0, overflow: 0 });
  const at = PAGE_HEADER_BYTES;
  page.writeUInt32LE(MAGIC, at);
  page.writeUInt32LE(FORMAT_VERSION, at + 4);
  page.writeUInt32LE(meta.pageSize, at + 8);
  page.writeUInt32LE(meta.flags, at + 12);
  page.writeBigUInt64LE(BigInt(meta.root), at + 16);
  page.writeBigUInt64LE(meta.rootSequence, at + 24);
  page.writeBigUInt64LE(meta.freelist === undefined ? NO_FREELIST : BigInt(meta.freelist), at + 32);
  page.writeBigUInt64LE(BigInt(meta.pgid), at + 40);
  page.writeBigUInt64LE(meta.txid, at + 48);
  page.writeBigUInt64LE(fnv1a64(page.subarray(at, at + META_CHECKSUMMED_BYTES)), at + META_CHECKSUMMED_BYTES);
  return page;
}

/** Decodes the meta at the start of `page`; throws on a wrong magic, version or checksum. */
export function decodeMetaPage(page: Buffer): Meta {
  const at = PAGE_HEADER_BYTES;
  assert.ok(page.length >= at + META_BYTES, 'meta page truncated');
  if (page.readUInt32LE(at) !== MAGIC) throw new Error('bbolt: invalid database (bad magic)');
  if (page.readUInt32LE(at + 4) !== FORMAT_VERSION) throw new Error('bbolt: version mismatch');
  const stored = page.readBigUInt64LE(at + META_CHECKSUMMED_BYTES);
  const computed = fnv1a64(page.subarray(at, at + META_CHECKSUMMED_BYTES));
  // bbolt accepts a zero checksum (files from before checksums existed).
  if (stored !== 0n && stored !== computed) throw new Error('bbolt: meta checksum error');
  const freelist = page.readBigUInt64LE(at + 32);
  return {
    pageSize: page.readUInt32LE(at + 8),
    flags: page.readUInt32LE(at + 12),
    root: safeNumber(page.readBigUInt64LE(at + 16), 'root page'),
    rootSequence: page.readBigUInt64LE(at + 24),
    freelist: freelist === NO_FREELIST ? undefined : safeNumber(freelist, 'freelist page'),
    pgid: safeNumber(page.readBigUInt64LE(at + 40), 'high-water mark'),
    txid: page.readBigUInt64LE(at + 48),
  };
}

export function safeNumber(value: bigint, what: string): number {
  assert.ok(value <= BigInt(Number.MAX_SAFE_INTEGER), `bbolt: ${what} out of range: ${value}`);
  return Number(value);
}

/** Byte-wise key order, as bbolt compares keys (bytes.Compare). */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}
