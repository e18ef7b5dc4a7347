// A revision names one write: `main` is the store revision of the write batch operation
// (one per put, delete range or writing txn), `sub` orders the writes inside it.
// Invariant: 0 <= sub, 0 < main <= Number.MAX_SAFE_INTEGER for every stored revision.
import assert from 'node:assert/strict';

export interface Revision {
  readonly main: number;
  readonly sub: number;
}

/**
 * The class of every revision the store keeps (the key index holds one per write). Not an
 * object literal: V8 gives all `{ main, sub }` literals one hidden class, and once any of them
 * held a number outside the small-integer range (a scan bound such as MAX_SAFE_INTEGER) the
 * `main` field of all of them became a boxed double: one extra heap object per revision, 700k
 * of 3.2M objects in a member's heap after 600,000 puts, all walked by every full collection.
 * Its own class keeps the field a small integer as long as revisions stay below 2^31.
 */
class StoredRevision implements Revision {
  constructor(
    readonly main: number,
    readonly sub: number,
  ) {}
}

/** A revision to keep (in the index, in events); plain literals are fine for scan bounds. */
export function revisionOf(main: number, sub: number): Revision {
  return new StoredRevision(main, sub);
}

/** 8 bytes main + '_' + 8 bytes sub, all big-endian: byte order equals revision order. */
export const REVISION_BYTES = 17;

export function assertSafeCounter(value: number, what: string): void {
  assert.ok(Number.isSafeInteger(value) && value >= 0, `${what} out of range: ${value}`);
}

export function compareRevisions(a: Revision, b: Revision): number {
  return a.main !== b.main ? a.main - b.main : a.sub - b.sub;
}

export function encodeRevision(rev: Revision, target = Buffer.allocUnsafe(REVISION_BYTES), offset = 0): Buffer {
  assertSafeCounter(rev.main, 'revision main');
  assertSafeCounter(rev.sub, 'revision sub');
  target.writeBigUInt64BE(BigInt(rev.main), offset);
  target[offset + 8] = 0x5f; // '_'
  target.writeBigUInt64BE(BigInt(rev.sub), offset + 9);
  return target;
}

export function decodeRevision(bytes: Uint8Array, offset = 0): Revision {
  assert.ok(bytes.length - offset >= REVISION_BYTES, 'revision bytes truncated');
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(view[offset + 8], 0x5f, 'revision separator missing');
  const main = Number(view.readBigUInt64BE(offset));
  const sub = Number(view.readBigUInt64BE(offset + 9));
  assertSafeCounter(main, 'revision main');
  assertSafeCounter(sub, 'revision sub');
  return revisionOf(main, sub);
}

/** A compact string identity of a revision, for sets and maps. */
export function revisionId(rev: Revision): string {
  return `${rev.main}.${rev.sub}`;
}
