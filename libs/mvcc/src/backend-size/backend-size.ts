// The store's view of "how big would etcd's bbolt file be": a BoltSizeModel fed with the
// writes etcd's backend would receive for the data Keel commits, committed on etcd's schedule.
//
// When the model commits (etcd 3.4 mvcc/backend): etcd's batch tx collects writes and its
// backend goroutine commits them every --backend-batch-interval (100 ms) if anything is
// pending, or at once when --backend-batch-limit (10,000) writes are pending, and forcibly
// on compaction batches and defrag. Keel's store commits to RocksDB per apply batch, so each
// store batch goes into the model's open transaction, and the model commits
//   - batchIntervalMs after the first write of its open transaction (etcd's ticker runs
//     continuously, so its commit lands 0-100 ms after a write; the model's exactly 100 ms),
//   - at once when the open transaction reaches batchLimit writes,
//   - at once when a compaction is scheduled, for each full physical-compaction batch,
//     before defrag and on close.
// Figures change only at model commits, as etcd's do (its size is read when a tx begins),
// so a quota check right after a write sees the size before it, as on etcd.
// batchIntervalMs 0 commits the model with every store batch (deterministic tests).
import { encodeU64, KeySpaces, metaDbKey } from '../keyspaces';
import type { BatchOp } from '../rocks';
import { BoltSizeModel, BulkLoad } from './bolt-model';
import { bootstrapEtcdBackend, CONSISTENT_INDEX_BYTES, EtcdBucket, EtcdMetaKey } from './etcd-layout';
import { etcdWriteOf, type EtcdWrite } from './etcd-writes';

export interface BackendSizeOptions {
  /** etcd's --backend-batch-interval in ms (default 100); 0 = commit with every store batch. */
  batchIntervalMs?: number;
  /** etcd's --backend-batch-limit (default 10,000 writes). */
  batchLimit?: number;
}

const DEFAULT_BATCH_INTERVAL_MS = 100;
const DEFAULT_BATCH_LIMIT = 10_000;
/** A revision key starts with the main revision (8 bytes): one main revision = one write txn. */
const MAIN_REVISION_BYTES = 8;

export class BackendSize {
  private timer: NodeJS.Timeout | undefined;
  private readonly batchIntervalMs: number;
  private readonly batchLimit: number;

  private constructor(
    private model: BoltSizeModel,
    options: BackendSizeOptions,
    /** The high-water mark last written to the store (0 before the first write). */
    private persistedPages: number,
  ) {
    this.batchIntervalMs = options.batchIntervalMs ?? DEFAULT_BATCH_INTERVAL_MS;
    this.batchLimit = options.batchLimit ?? DEFAULT_BATCH_LIMIT;
  }

  /** A new, empty backend after etcd's first-start commits. */
  static fresh(options: BackendSizeOptions = {}): BackendSize {
    const model = new BoltSizeModel();
    bootstrapEtcdBackend(model);
    return new BackendSize(model, options, 0);
  }

  /** Rebuilds the model from a store's records (see SizeRebuild). */
  static rebuild(options: BackendSizeOptions = {}): SizeRebuild {
    return new SizeRebuild((model, persistedPages) => new BackendSize(model, options, persistedPages));
  }

  // Figures (as of the model's last commit)

  size(): number {
    return this.model.size();
  }

  sizeInUse(): number {
    return this.model.sizeInUse();
  }

  /** High-water mark in pages; the store persists it so a restart keeps the file length. */
  pageCount(): number {
    return this.model.pageCount();
  }

  /**
   * The op persisting the high-water mark (MetaKey backendPages) in the store's batch; counts
   * it as written. The store adds it at every commit where the mark moved and on defrag/close,
   * so a crash loses at most the growth of the model's last 100 ms.
   */
  highWaterOp(): BatchOp {
    this.persistedPages = this.pageCount();
    return { type: 'put', key: metaDbKey('backendPages'), value: encodeU64(this.persistedPages) };
  }

  /** highWaterOp() when the mark moved since it was last persisted. */
  highWaterOpIfMoved(): BatchOp | undefined {
    return this.pageCount() === this.persistedPages ? undefined : this.highWaterOp();
  }

  // Feeding

  /**
   * A store batch RocksDB accepted. Each main revision in it was one write txn in etcd, which
   * ends by rewriting consistent_index (only txns that changed keys do) and, like etcd's batch
   * tx unlock, by committing when the pending writes reached the batch limit.
   */
  applyBatch(ops: readonly BatchOp[]): void {
    let txnRevision: string | undefined;
    let scheduledCompaction = false;
    for (const op of ops) {
      const write = etcdWriteOf(op);
      if (write === undefined) continue;
      if (write.bucket === EtcdBucket.meta && write.key === EtcdMetaKey.consistentIndex) continue; // written per txn below
      if (write.bucket === EtcdBucket.key) {
        const main = write.key.slice(0, MAIN_REVISION_BYTES);
        if (txnRevision !== undefined && main !== txnRevision) this.endWriteTxn();
        txnRevision = main;
      }
      if (write.bucket === EtcdBucket.meta && write.key === EtcdMetaKey.scheduledCompact) scheduledCompaction = true;
      this.apply(write);
    }
    if (txnRevision !== undefined) this.endWriteTxn();
    // etcd force-commits a newly scheduled compaction (mvcc/kvstore.go compact).
    if (scheduledCompaction) this.commitNow();
    else this.afterWrites();
  }

  private endWriteTxn(): void {
    this.model.put(EtcdBucket.meta, EtcdMetaKey.consistentIndex, CONSISTENT_INDEX_BYTES);
    if (this.model.pendingWrites() >= this.batchLimit) this.commitNow();
  }

  /**
   * One RocksDB write of physical compaction: history deletes, plus the finished-compaction
   * mark in the last one. etcd force-commits every full compaction batch; the last one is
   * left to the batch timer.
   */
  applyCompaction(ops: readonly BatchOp[], last: boolean): void {
    for (const op of ops) {
      const write = etcdWriteOf(op);
      if (write !== undefined) this.apply(write);
    }
    if (!last || this.model.pendingWrites() >= this.batchLimit) this.commitNow();
    else this.afterWrites();
  }

  /** Models etcd's defrag: commit, then copy everything into a compact new file. */
  defragment(): void {
    this.commitNow();
    this.model = this.model.copyCompacted();
  }

  /** Commits whatever is pending (etcd's ForceCommit) and stops the timer. */
  commitNow(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.model.commit();
  }

  close(): void {
    this.commitNow();
  }

  /** Applies one write; the batch limit is checked where etcd checks it (end of a txn or lock). */
  private apply(write: EtcdWrite): void {
    if (write.valueBytes !== undefined) {
      this.model.put(write.bucket, write.key, write.valueBytes, write.sequential);
    } else if (write.bucket === EtcdBucket.key) {
      // Keel's revision key does not say whether the record was a tombstone; etcd's does.
      this.model.deleteFirstPresent(write.bucket, [write.key, write.key + 't']);
    } else {
      this.model.delete(write.bucket, write.key);
    }
  }

  private afterWrites(): void {
    if (this.model.pendingWrites() === 0) return;
    if (this.batchIntervalMs === 0 || this.model.pendingWrites() >= this.batchLimit) {
      this.commitNow();
      return;
    }
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.model.commit();
    }, this.batchIntervalMs);
    this.timer.unref();
  }
}

/**
 * Rebuilds a model from a store's records on open, the way defrag would lay them out (see
 * BulkLoad): feed every non-history record first (any order), then the history records in
 * revision order, then finish() with the page count persisted before the restart. etcd's
 * file keeps its length across restarts, so the high-water mark is the larger of the
 * persisted one and the rebuilt one; pages in between are free. Which pages were in use
 * before the restart is not known, so size-in-use is the compact layout's (slightly lower
 * than a long-running etcd's, which keeps partly filled pages until they are rewritten).
 */
export class SizeRebuild {
  private readonly small = new Map<string, Map<string, number>>();
  private readonly load = new BulkLoad();
  private keyBucketStarted = false;

  constructor(private readonly wrap: (model: BoltSizeModel, persistedPages: number) => BackendSize) {}

  /** A record of any space but history. */
  addRecord(dbKey: Buffer, value: Buffer): void {
    const write = etcdWriteOf({ type: 'put', key: dbKey, value });
    if (write === undefined || write.valueBytes === undefined) return;
    let bucket = this.small.get(write.bucket);
    if (bucket === undefined) this.small.set(write.bucket, (bucket = new Map()));
    bucket.set(write.key, write.valueBytes);
  }

  /** The next history record, in revision order, after all addRecord calls. */
  addHistory(revisionKey: Buffer, record: Buffer): void {
    if (!this.keyBucketStarted) this.startKeyBucket();
    const write = etcdWriteOf({ type: 'put', key: KeySpaces.history.key(revisionKey), value: record });
    this.load.put(write!.key, write!.valueBytes!);
  }

  finish(persistedPages: number): BackendSize {
    if (!this.keyBucketStarted) this.startKeyBucket();
    for (const name of sortedBuckets().filter((name) => name > EtcdBucket.key)) this.emitSmall(name);
    return this.wrap(this.load.finish(persistedPages), persistedPages);
  }

  private startKeyBucket(): void {
    this.keyBucketStarted = true;
    for (const name of sortedBuckets().filter((name) => name < EtcdBucket.key)) this.emitSmall(name);
    this.load.bucket(EtcdBucket.key);
  }

  private emitSmall(name: string): void {
    this.load.bucket(name);
    const entries = [...(this.small.get(name) ?? new Map<string, number>()).entries()];
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [key, valueBytes] of entries) this.load.put(key, valueBytes);
  }
}

function sortedBuckets(): string[] {
  return Object.values(EtcdBucket).sort();
}
