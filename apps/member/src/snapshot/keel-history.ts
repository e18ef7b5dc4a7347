// Reads the store's history key space record by record for the snapshot writer, with the
// revision (main, sub) each record was written at.
import assert from 'node:assert/strict';
import { KeySpaces, decodeHistoryRecord, type KeyValue, type MvccStore } from '@keel/mvcc';

/** A history key: 8-byte BE main revision, '_', 8-byte BE sub revision (libs/mvcc/src/revision.ts). */
const REVISION_BYTES = 17;

export interface HistoryRecord {
  main: number;
  sub: number;
  tombstone: boolean;
  kv: KeyValue;
}

function decodeRevisionAndRecord(revision: Buffer, record: Buffer): HistoryRecord {
  assert.equal(revision.length, REVISION_BYTES, 'history key is not a revision');
  const { kv, tombstone } = decodeHistoryRecord(record);
  return { main: Number(revision.readBigUInt64BE(0)), sub: Number(revision.readBigUInt64BE(9)), tombstone, kv };
}

/** Every stored revision in revision order (RocksDB key order is revision order). */
export async function* historyRecords(store: MvccStore): AsyncGenerator<HistoryRecord> {
  for await (const [revision, record] of store.scanRaw(KeySpaces.history)) yield decodeRevisionAndRecord(revision, record);
}
