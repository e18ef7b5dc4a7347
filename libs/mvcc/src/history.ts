// Reads of the history key space in revision order, streamed from RocksDB iterators:
// index rebuild on open, change events for watchers, and the consistency hashes.
//
// Hash algorithms (both CRC-32, IEEE polynomial, node:zlib crc32, seeded with 0; a
// record's bytes are the kv-codec encoding, which is deterministic):
// - hash(): over every history record, for each in revision order the 17 revision-key
//   bytes then the record bytes. It depends on how far physical compaction has got, so
//   the store first waits for running compactions.
// - hashKV(rev): the same fold, but only over records with main revision <= rev that a
//   read could still need: main > compactRevision, or the record is in the keep set of
//   the compaction at compactRevision. The result does not depend on physical
//   compaction progress, so members at the same revision agree (etcd's HashKV idea).
import { crc32 } from 'node:zlib';
import type { KeyIndex } from './key-index';
import { intervalContains, toInterval } from './key-range';
import { KeySpaces } from './keyspaces';
import { decodeRecord, type HistoryRecord } from './kv-codec';
import { decodeRevision, encodeRevision, type Revision, revisionId } from './revision';
import type { Rocks } from './rocks';
import { type Event, EventType, type KeyRange, type KeyValue, type ReadEventsResult } from './types';

export interface HistoryEntry {
  rev: Revision;
  dbKey: Buffer;
  bytes: Buffer;
}

/** History records with fromRevision <= main < untilRevision, in revision order. */
export async function* scanHistory(rocks: Rocks, fromRevision: number, untilRevision: number): AsyncGenerator<HistoryEntry> {
  const history = KeySpaces.history;
  const gte = history.key(encodeRevision({ main: Math.max(fromRevision, 0), sub: 0 }));
  const lt = history.key(encodeRevision({ main: untilRevision, sub: 0 }));
  for await (const [dbKey, bytes] of rocks.scan({ gte, lt })) {
    yield { rev: decodeRevision(history.suffixOf(dbKey)), dbKey, bytes };
  }
}

/**
 * Replays all history into an empty index; returns the highest main revision seen.
 * `visit` sees every record (revision key, record bytes) in revision order.
 */
export async function rebuildIndex(
  rocks: Rocks,
  index: KeyIndex,
  visit?: (revisionKey: Buffer, bytes: Buffer) => void,
): Promise<number> {
  let last = 0;
  for await (const entry of scanHistory(rocks, 0, Number.MAX_SAFE_INTEGER)) {
    visit?.(KeySpaces.history.suffixOf(entry.dbKey), entry.bytes);
    const { kv, tombstone } = decodeRecord(entry.bytes);
    if (tombstone) index.restoreTombstone(kv.key, entry.rev);
    else index.restorePut(kv.key, entry.rev, kv);
    last = entry.rev.main;
  }
  return last;
}

export interface EventQuery {
  fromRevision: number;
  toRevision: number;
  range: KeyRange;
  limit: number;
}

/** Events of the query, never splitting a main revision (see WatchSource.readEvents). */
export async function readHistoryEvents(rocks: Rocks, query: EventQuery): Promise<ReadEventsResult> {
  const interval = toInterval(query.range);
  const events: Event[] = [];
  let stopAfter = Infinity;
  for await (const entry of scanHistory(rocks, query.fromRevision, query.toRevision + 1)) {
    if (entry.rev.main > stopAfter) return { events, nextRevision: stopAfter + 1 };
    const record = decodeRecord(entry.bytes);
    if (interval === undefined || !intervalContains(interval, record.kv.key)) continue;
    events.push(toEvent(record));
    if (events.length >= query.limit) stopAfter = entry.rev.main;
  }
  return { events, nextRevision: Math.min(stopAfter, query.toRevision) + 1 };
}

function toEvent(record: HistoryRecord): Event {
  const kv = ownKeyValue(record.kv);
  if (!record.tombstone) return { type: EventType.PUT, kv };
  return { type: EventType.DELETE, kv: { ...kv, createRevision: 0, version: 0, value: Buffer.alloc(0), lease: 0n } };
}

/** Copies key and value out of a (possibly pooled) iterator buffer. */
export function ownKeyValue(kv: KeyValue): KeyValue {
  return { ...kv, key: Buffer.from(kv.key), value: Buffer.from(kv.value) };
}

export async function hashAllHistory(rocks: Rocks, untilRevision: number): Promise<number> {
  let hash = 0;
  for await (const entry of scanHistory(rocks, 0, untilRevision + 1)) {
    hash = crc32(entry.bytes, crc32(entry.dbKey.subarray(1), hash));
  }
  return hash;
}

export async function hashHistoryUpTo(
  rocks: Rocks,
  revision: number,
  compactRevision: number,
  keep: ReadonlySet<string>,
): Promise<number> {
  let hash = 0;
  for await (const entry of scanHistory(rocks, 0, revision + 1)) {
    if (entry.rev.main <= compactRevision && !keep.has(revisionId(entry.rev))) continue;
    hash = crc32(entry.bytes, crc32(entry.dbKey.subarray(1), hash));
  }
  return hash;
}
