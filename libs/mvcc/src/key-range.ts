// etcd's key/range_end conventions turned into a KeyInterval (see KeyRange in types.ts).
import type { KeyInterval } from './key-index';
import type { KeyRange } from './types';

export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The interval a request names; undefined when it is empty (key >= range_end). */
export function toInterval(range: KeyRange): KeyInterval | undefined {
  const start = toBuffer(range.key);
  const rangeEnd = range.rangeEnd;
  if (rangeEnd === undefined || rangeEnd.length === 0) return { start, end: undefined };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { start, end: null };
  const end = toBuffer(rangeEnd);
  return Buffer.compare(start, end) < 0 ? { start, end } : undefined;
}

export function intervalContains(interval: KeyInterval, key: Buffer): boolean {
  if (interval.end === undefined) return interval.start.equals(key);
  if (Buffer.compare(key, interval.start) < 0) return false;
  return interval.end === null || Buffer.compare(key, interval.end) < 0;
}
