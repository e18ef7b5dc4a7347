// BackendSize: when the model commits, relative to the store batches it is fed.
import { KeySpaces, encodeU64, metaDbKey } from '../keyspaces';
import { encodeRecord } from '../kv-codec';
import { encodeRevision } from '../revision';
import type { BatchOp } from '../rocks';
import { BackendSize } from './backend-size';

const FRESH_BYTES = 20480;

/** One store batch writing `revisions` revisions of `valueBytes` each, from main revision `from`. */
function batchOf(from: number, revisions: number, valueBytes: number): BatchOp[] {
  const ops: BatchOp[] = [];
  for (let main = from; main < from + revisions; main++) {
    const kv = { key: Buffer.from('key'), createRevision: from, modRevision: main, version: main - from + 1, lease: 0n, value: Buffer.alloc(valueBytes) };
    ops.push({ type: 'put', key: KeySpaces.history.key(encodeRevision({ main, sub: 0 })), value: encodeRecord(kv, false) });
  }
  ops.push({ type: 'put', key: metaDbKey('appliedIndex'), value: encodeU64(from + revisions) });
  return ops;
}

describe('BackendSize commits', () => {
  it("gathers writes until the batch interval passes, like etcd's backend", async () => {
    const size = BackendSize.fresh({ batchIntervalMs: 50 });
    size.applyBatch(batchOf(2, 1, 100_000));
    size.applyBatch(batchOf(3, 1, 100_000));
    expect(size.size()).toBe(FRESH_BYTES);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(size.size()).toBeGreaterThan(2 * 100_000);
    size.close();
  });

  it('commits at once when a txn ends with the batch limit reached (each revision + its consistent_index)', () => {
    const size = BackendSize.fresh({ batchIntervalMs: 60_000, batchLimit: 10 });
    size.applyBatch(batchOf(2, 4, 100_000)); // 8 pending writes: no commit yet
    expect(size.size()).toBe(FRESH_BYTES);
    size.applyBatch(batchOf(6, 1, 100_000)); // 10 pending
    const afterLimit = size.size();
    expect(afterLimit).toBeGreaterThan(5 * 100_000);
    size.applyBatch(batchOf(7, 1, 100_000));
    expect(size.size()).toBe(afterLimit);
    size.close();
    expect(size.size()).toBeGreaterThan(afterLimit);
  });

  it('force-commits a scheduled compaction and every full compaction batch', () => {
    const size = BackendSize.fresh({ batchIntervalMs: 60_000 });
    size.applyBatch(batchOf(2, 3, 100_000));
    expect(size.size()).toBe(FRESH_BYTES);
    size.applyBatch([{ type: 'put', key: metaDbKey('scheduledCompactRevision'), value: encodeU64(4) }]);
    const scheduled = size.size();
    expect(scheduled).toBeGreaterThan(3 * 100_000);
    const deletes: BatchOp[] = [2, 3].map((main) => ({ type: 'del', key: KeySpaces.history.key(encodeRevision({ main, sub: 0 })) }));
    size.applyCompaction(deletes, false); // committed at once: the freed pages are pending
    const inUseAfterBatch = size.sizeInUse();
    size.applyCompaction([{ type: 'put', key: metaDbKey('finishedCompactRevision'), value: encodeU64(4) }], true);
    expect(size.sizeInUse()).toBe(inUseAfterBatch); // the last batch waits for the timer
    size.close();
    // bbolt counts pages freed by a commit as free from the next commit on, as etcd reports.
    expect(size.sizeInUse()).toBeLessThan(inUseAfterBatch - 2 * 100_000);
  });
});
