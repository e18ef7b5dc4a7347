// What the apply pipeline needs from the revisioned store, in etcd's request/response shapes.
// An adapter over @keel/mvcc implements it (store-adapter.ts).
import type { etcdserverpb } from '@keel/proto';
import type { KeySpaceName } from '@keel/mvcc';

/**
 * One apply batch. Writes are visible to later calls on the same batch at once and become
 * durable together with the applied index at commit(): either all of a batch survives a crash
 * or none of it does, so replaying from the persisted applied index is exact.
 */
export interface StoreBatch {
  range(request: etcdserverpb.RangeRequest): Promise<etcdserverpb.RangeResponse>;
  put(request: etcdserverpb.PutRequest): Promise<etcdserverpb.PutResponse>;
  deleteRange(request: etcdserverpb.DeleteRangeRequest): Promise<etcdserverpb.DeleteRangeResponse>;
  txn(request: etcdserverpb.TxnRequest): Promise<etcdserverpb.TxnResponse>;
  /**
   * Schedules compaction at `revision` (throws the store's Compacted/FutureRevision errors);
   * `physical` settles once the superseded history is gone from disk.
   */
  compact(revision: number): { physical: Promise<void> };
  rawPut(space: KeySpaceName, key: Uint8Array, value: Uint8Array): void;
  rawDelete(space: KeySpaceName, key: Uint8Array): void;
  /** Until commit(), reads of the store that start wait for this batch (answers go out first). */
  holdReadsUntilCommit(): void;
  /** Writes everything plus the applied index/term in one atomic RocksDB batch. */
  commit(appliedIndex: number, appliedTerm: number): Promise<void>;
}

export interface StatePort {
  begin(): Promise<StoreBatch>;
  /** Reads committed state. */
  range(request: etcdserverpb.RangeRequest): Promise<etcdserverpb.RangeResponse>;
  currentRevision(): number;
  compactRevision(): number;
  appliedIndex(): number;
  appliedTerm(): number;
  rawScan(space: KeySpaceName): Promise<Array<{ key: Buffer; value: Buffer }>>;
}
