// What a watcher watches, in a form that is cheap to compare.
//
// Keys are turned into latin1 strings: every byte maps to exactly one UTF-16 code unit
// of the same value, so JS string comparison (`<`) orders them exactly as bytes compare,
// and they work as Map keys. Conversion costs one copy per event key, which is far less
// than comparing Buffers inside the matching structures.

import type { KeyRange } from '../types';

/** A key as a latin1 string (one char per byte). */
export type KeyText = string;

export function keyText(key: Uint8Array): KeyText {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/**
 * A watched key space:
 * - `single`: exactly one key;
 * - `interval`: [start, end), where `end === null` means "no upper bound" (etcd's
 *   rangeEnd = "\0", every key >= start).
 */
export type WatchedKeys =
  | { readonly kind: 'single'; readonly key: KeyText }
  | { readonly kind: 'interval'; readonly start: KeyText; readonly end: KeyText | null };

export type ParsedRange =
  | { readonly ok: true; readonly keys: WatchedKeys; readonly range: KeyRange }
  | { readonly ok: false };

/**
 * Applies etcd's watch-create conventions: an empty key means "\0" (the smallest key);
 * an absent or empty rangeEnd means a single key; rangeEnd "\0" means every key >= key;
 * otherwise [key, rangeEnd), which must not be empty (key < rangeEnd).
 */
export function parseWatchRange(key: Uint8Array, rangeEnd: Uint8Array | undefined): ParsedRange {
  const start = key.length === 0 ? new Uint8Array([0]) : key;
  const startText = keyText(start);
  if (rangeEnd === undefined || rangeEnd.length === 0) {
    return { ok: true, keys: { kind: 'single', key: startText }, range: { key: start } };
  }
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) {
    return { ok: true, keys: { kind: 'interval', start: startText, end: null }, range: { key: start, rangeEnd } };
  }
  const endText = keyText(rangeEnd);
  if (startText >= endText) return { ok: false };
  return { ok: true, keys: { kind: 'interval', start: startText, end: endText }, range: { key: start, rangeEnd } };
}

export function watchedKeysContain(keys: WatchedKeys, key: KeyText): boolean {
  if (keys.kind === 'single') return keys.key === key;
  return keys.start <= key && (keys.end === null || key < keys.end);
}
