// Physical compaction: deletes from RocksDB every history record at or below the
// compact revision that the index compaction did not keep, in bounded write batches so
// that other writes interleave, then records the compaction as finished. A batch ends
// after `batchSize` scanned records (kept ones included), as etcd's compaction batches do,
// so the backend size model (onWritten) sees etcd's commits.
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
  /** History records scanned per RocksDB write batch (etcd's compaction batch limit). */
  batchSize: number;
  sync: boolean;
  /** Called after each RocksDB write with its ops; `last` for the one marking the end. */
  onWritten?: (ops: readonly BatchOp[], last: boolean) => void;
}

export async function compactHistory(rocks: Rocks, job: PhysicalCompaction): Promise<number> {
  const history = KeySpaces.history;
  const upTo = history.key(encodeRevision({ main: job.revision + 1, sub: 0 }));
  let pending: BatchOp[] = [];
  let deleted = 0;
  let scanned = 0;
  for await (const [dbKey] of rocks.scan({ gte: history.bounds().gte, lt: upTo, keysOnly: true })) {
    scanned++;
    if (!job.keep.has(revisionId(decodeRevision(history.suffixOf(dbKey))))) pending.push({ type: 'del', key: dbKey });
    if (scanned % job.batchSize === 0 && pending.length > 0) {
      deleted += pending.length;
      await rocks.write(pending, job.sync);
      job.onWritten?.(pending, false);
      pending = [];
      // Let other work (applies, reads) run between batches.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  pending.push({ type: 'put', key: metaDbKey('finishedCompactRevision'), value: encodeU64(job.revision) });
  deleted += pending.length - 1;
  await rocks.write(pending, job.sync);
  job.onWritten?.(pending, true);
  return deleted;
}
