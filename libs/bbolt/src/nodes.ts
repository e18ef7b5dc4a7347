// Encoding and decoding of leaf and branch nodes (layout.ts describes the bytes).
import assert from 'node:assert/strict';
import {
  BRANCH_ELEMENT_BYTES,
  LEAF_ELEMENT_BYTES,
  MAX_ELEMENTS_PER_PAGE,
  PAGE_HEADER_BYTES,
  PageFlag,
  readPageHeader,
  safeNumber,
  writePageHeader,
} from './layout';

export interface LeafEntry {
  key: Buffer;
  value: Buffer;
  /** BUCKET_LEAF_FLAG when value is a bucket header. */
  flags: number;
}

export interface BranchEntry {
  /** The first key stored under `child`. */
  key: Buffer;
  child: number;
}

export function leafElementBytes(entry: { key: Uint8Array; value: Uint8Array }): number {
  return LEAF_ELEMENT_BYTES + entry.key.length + entry.value.length;
}

export function branchElementBytes(entry: { key: Uint8Array }): number {
  return BRANCH_ELEMENT_BYTES + entry.key.length;
}

/** Pages a node of `nodeBytes` occupies (at least one). */
export function pagesFor(nodeBytes: number, pageSize: number): number {
  return Math.max(1, Math.ceil(nodeBytes / pageSize));
}

/**
 * Encodes a leaf node. With `pageSize` the result is padded to whole pages and the header
 * carries the overflow count; without it the result is exactly the node's bytes (the form an
 * inline bucket stores in its parent's value).
 */
export function encodeLeaf(id: number, entries: readonly LeafEntry[], pageSize?: number): Buffer {
  const bytes = PAGE_HEADER_BYTES + entries.reduce((sum, e) => sum + leafElementBytes(e), 0);
  return encodeNode(id, PageFlag.leaf, entries.length, bytes, pageSize, (page, i, element, data) => {
    const entry = entries[i]!;
    page.writeUInt32LE(entry.flags, element);
    page.writeUInt32LE(data - element, element + 4);
    page.writeUInt32LE(entry.key.length, element + 8);
    page.writeUInt32LE(entry.value.length, element + 12);
    entry.key.copy(page, data);
    entry.value.copy(page, data + entry.key.length);
    return data + entry.key.length + entry.value.length;
  });
}

export function encodeBranch(id: number, entries: readonly BranchEntry[], pageSize: number): Buffer {
  const bytes = PAGE_HEADER_BYTES + entries.reduce((sum, e) => sum + branchElementBytes(e), 0);
  return encodeNode(id, PageFlag.branch, entries.length, bytes, pageSize, (page, i, element, data) => {
    const entry = entries[i]!;
    assert.notEqual(entry.child, id, 'branch page points at itself');
    page.writeUInt32LE(data - element, element);
    page.writeUInt32LE(entry.key.length, element + 4);
    page.writeBigUInt64LE(BigInt(entry.child), element + 8);
    entry.key.copy(page, data);
    return data + entry.key.length;
  });
}

type WriteElement = (page: Buffer, index: number, elementAt: number, dataAt: number) => number;

/** Leaf and branch elements are both 16 bytes, so one loop lays out either kind. */
const ELEMENT_BYTES = LEAF_ELEMENT_BYTES;
assert.equal(BRANCH_ELEMENT_BYTES, ELEMENT_BYTES);

function encodeNode(id: number, flags: number, count: number, bytes: number, pageSize: number | undefined, write: WriteElement): Buffer {
  assert.ok(count <= MAX_ELEMENTS_PER_PAGE, `too many elements on one page: ${count}`);
  const pages = pageSize === undefined ? 1 : pagesFor(bytes, pageSize);
  const page = Buffer.alloc(pageSize === undefined ? bytes : pages * pageSize);
  writePageHeader(page, { id, flags, count, overflow: pages - 1 });
  let data = PAGE_HEADER_BYTES + count * ELEMENT_BYTES;
  for (let i = 0; i < count; i++) data = write(page, i, PAGE_HEADER_BYTES + i * ELEMENT_BYTES, data);
  assert.equal(data, bytes, 'node size mismatch');
  return page;
}

/** Decodes the elements of a leaf page (keys and values are views into `page`). */
export function decodeLeaf(page: Buffer): LeafEntry[] {
  const header = readPageHeader(page);
  assert.ok((header.flags & PageFlag.leaf) !== 0, `page ${header.id} is not a leaf`);
  const entries: LeafEntry[] = [];
  for (let i = 0; i < header.count; i++) {
    const element = PAGE_HEADER_BYTES + i * LEAF_ELEMENT_BYTES;
    const keyAt = element + page.readUInt32LE(element + 4);
    const keyBytes = page.readUInt32LE(element + 8);
    const valueBytes = page.readUInt32LE(element + 12);
    assert.ok(keyAt + keyBytes + valueBytes <= page.length, `leaf page ${header.id} element ${i} out of bounds`);
    entries.push({
      flags: page.readUInt32LE(element),
      key: page.subarray(keyAt, keyAt + keyBytes),
      value: page.subarray(keyAt + keyBytes, keyAt + keyBytes + valueBytes),
    });
  }
  return entries;
}

export function decodeBranch(page: Buffer): BranchEntry[] {
  const header = readPageHeader(page);
  assert.ok((header.flags & PageFlag.branch) !== 0, `page ${header.id} is not a branch`);
  const entries: BranchEntry[] = [];
  for (let i = 0; i < header.count; i++) {
    const element = PAGE_HEADER_BYTES + i * BRANCH_ELEMENT_BYTES;
    const keyAt = element + page.readUInt32LE(element);
    const keyBytes = page.readUInt32LE(element + 4);
    assert.ok(keyAt + keyBytes <= page.length, `branch page ${header.id} element ${i} out of bounds`);
    entries.push({ key: page.subarray(keyAt, keyAt + keyBytes), child: safeNumber(page.readBigUInt64LE(element + 8), 'child page') });
  }
  return entries;
}
