// Physical compaction: deletes from RocksDB every history record at or below the
// compact revision that the index compaction did not keep, in bounded write batches so
// that other writes interleave, then records the compaction as finished.
//
// Safe to rerun (after a crash the store reruns the scheduled compaction on open): it
// only deletes records the index no longer refers to.
import { KeySpaces, encodeU64, metaDbKey } from './keyspaces';
import { decodeRevision, encodeRevision, revisionId } from './revision';
import type { BatchOp, Rocks } from './rocks';

export interface PhysicalCompaction {
  revision: number;
  /** revisionIds of the records <= revision to keep. */
  keep: ReadonlySet<string>;
  /** Deletes per RocksDB write batch. */
  batchSize: number;
  sync: boolean;
}

export async function compactHistory(rocks: Rocks, job: PhysicalCompaction): Promise<number> {
  const history = KeySpaces.history;
  const upTo = history.key(encodeRevision({ main: job.revision + 1, sub: 0 }));
  let pending: BatchOp[] = [];
  let deleted = 0;
  for await (const [dbKey] of rocks.scan({ gte: history.bounds().gte, lt: upTo, keysOnly: true })) {
    if (job.keep.has(revisionId(decodeRevision(history.suffixOf(dbKey))))) continue;
    pending.push({ type: 'del', key: dbKey });
    if (pending.length >= job.batchSize) {
      deleted += pending.length;
      await rocks.write(pending, job.sync);
      pending = [];
      // Let other work (applies, reads) run between batches.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  pending.push({ type: 'put', key: metaDbKey('finishedCompactRevision'), value: encodeU64(job.revision) });
  deleted += pending.length - 1;
  await rocks.write(pending, job.sync);
  return deleted;
}
