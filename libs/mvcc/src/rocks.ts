// A small typed face over @nxtedition/rocksdb's RocksLevel (the package ships no types).
// Only what the store uses: point reads, ordered scans, atomic write batches, properties.
// Keys and values are always Buffers.
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
const { RocksLevel } = require('@nxtedition/rocksdb') as { RocksLevel: new (location: string, options: object) => RawRocks };

interface RawIterator {
  nextv(size: number): Promise<Array<[Buffer, Buffer]>>;
  close(): Promise<void>;
}

/**
 * The binding's own batch (chained-batch.js), used through its implementation methods: the
 * underscore methods go straight to the native WriteBatch (batch_put / batch_del /
 * batch_write / batch_clear), without abstract-level's per-call checks, hooks and promise.
 */
interface RawChainedBatch {
  _put(key: Buffer, value: Buffer, options: object): void;
  _del(key: Buffer, options: object): void;
  /** Writes on the calling thread (RocksDB's DB::Write); throws on failure. */
  _writeSync(options: { sync: boolean }): void;
  /** Empties the native WriteBatch, keeping its buffer for the next write. */
  _clear(): void;
  /** Frees the native WriteBatch and detaches the batch from the database. */
  close(): Promise<void>;
  readonly length: number;
}

interface RawRocks {
  open(options?: object): Promise<void>;
  close(): Promise<void>;
  getMany(keys: Buffer[]): Promise<Array<Buffer | undefined>>;
  _getManySync(keys: Buffer[], options: object): Array<Buffer | undefined>;
  _chainedBatch(): RawChainedBatch;
  iterator(options: object): RawIterator;
  getProperty(name: string): string;
  readonly status: string;
}

export interface ScanOptions {
  gte: Buffer;
  lt: Buffer;
  reverse?: boolean;
  /** Entries fetched per native call. */
  chunk?: number;
  /** Skip reading values (the yielded value is an empty buffer). */
  keysOnly?: boolean;
}

const EMPTY = Buffer.alloc(0);

/** Up to this many keys, getMany reads on the calling thread. */
const SYNC_GET_KEYS_MAX = 8;

/** Memory RocksDB may spend on write buffers in the usual case (see OPEN_OPTIONS). */
export const MEMTABLE_BUDGET_BYTES = 32 * 1024 * 1024;

/**
 * Options for RocksLevel (@nxtedition/rocksdb 12 reads them in binding.cc: db_open and
 * InitOptions; unknown names are ignored).
 *
 * - walCompression: the binding turns zstd compression of RocksDB's own WAL on by default,
 *   which costs every apply batch a zstd pass on the main thread (batch writes are
 *   synchronous). Our values are small and already written to the raft WAL; measured with one
 *   3-put batch per apply (a put's apply: revision, index and meta keys), compression off cut
 *   the median batch write from 9.3–10.0 µs to 7.4–8.2 µs (docs/PERFORMANCE.md).
 * - RocksDB's WAL itself stays on. Batches are written with sync: false, so after a power
 *   loss RocksDB may come back older than the raft WAL; the member then re-applies the raft
 *   entries above the applied index stored in the same batch — but only those after its
 *   latest snapshot, so a snapshot must first make the store durable (sync() below).
 *   Without RocksDB's WAL even a process crash would lose every memtable not yet flushed
 *   (16 to 48 MiB of applies with the write buffers below, often more than a snapshot
 *   interval of entries), and the binding does not expose WriteOptions.disableWAL anyway.
 * - compaction 'level' + memtableMemoryBudget: without them RocksDB keeps its defaults of
 *   64 MiB write buffers (two of them while one flushes); the budget is only read together
 *   with a compaction style. With 32 MiB: 8 MiB write buffers, flushed two at a time (at
 *   most six, 48 MiB, when flushes fall behind), 4 MiB table files, L1 of 32 MiB, no
 *   compression on L0/L1. Measured after `etcdctl check datascale --load=m` on one member
 *   (etcdctl's "memory used"): 834 → 664–671 MB, and 557 → 412 MB on a build whose key
 *   index no longer pins pool slabs (docs/PERFORMANCE.md). `etcdctl check perf --load=m`
 *   was unchanged (967 vs 975 writes/s, stddev 7.4 vs 7.7 ms). The style
 *   itself is RocksDB's default (level), so existing stores open unchanged; durability is
 *   the WAL's business and is not affected.
 */
const OPEN_OPTIONS = {
  keyEncoding: 'buffer',
  valueEncoding: 'buffer',
  walCompression: false,
  compaction: 'level',
  memtableMemoryBudget: MEMTABLE_BUDGET_BYTES,
} as const;

export type BatchOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

/** The binding's per-operation options: no column family. */
const NO_OPTIONS = {};
const SYNC_WRITE = { sync: true };
const ASYNC_WRITE = { sync: false };
/** A write larger than this gets a fresh batch afterwards (see Rocks.write). */
const REUSED_BATCH_BYTES_MAX = 4 * 1024 * 1024;

export class Rocks {
  /**
   * One native batch, reused by every write(): filled, written and cleared in one synchronous
   * run, so no two writes can share it. Reuse saves building a batch per apply — through
   * abstract-level that cost a 3-member leader ~12 µs per put, its functions running
   * unoptimized in the apply path (perf with --perf-basic-prof, docs/PERFORMANCE.md).
   */
  private batch: RawChainedBatch;

  private constructor(
    private readonly db: RawRocks,
    readonly location: string,
  ) {
    this.batch = db._chainedBatch();
  }

  static async open(location: string): Promise<Rocks> {
    const db = new RocksLevel(location, OPEN_OPTIONS);
    await db.open({ createIfMissing: true });
    return new Rocks(db, location);
  }

  async close(): Promise<void> {
    if (this.db.status === 'open') await this.db.close();
  }

  async get(key: Buffer): Promise<Buffer | undefined> {
    const [value] = await this.db.getMany([key]);
    return value;
  }

  /**
   * Point reads. A few keys are read synchronously: a native call on this thread costs
   * a few microseconds, the thread-pool round trip of the async call ~50 (measured
   * with @nxtedition/rocksdb 12 here). Larger sets go async so the event loop keeps
   * moving while RocksDB reads them.
   */
  async getMany(keys: Buffer[]): Promise<Array<Buffer | undefined>> {
    if (keys.length === 0) return [];
    if (keys.length <= SYNC_GET_KEYS_MAX) return this.db._getManySync(keys, {});
    return this.db.getMany(keys);
  }

  /**
   * Writes the operations atomically. `sync` fsyncs RocksDB's own log first. The write runs on
   * this thread (as the binding's batch write always did); the promise only carries errors.
   */
  async write(ops: readonly BatchOp[], sync: boolean): Promise<void> {
    assert.equal(this.db.status, 'open', 'rocksdb is not open');
    const batch = this.batch;
    let bytes = 0;
    try {
      for (const op of ops) {
        if (op.type === 'put') {
          batch._put(op.key, op.value, NO_OPTIONS);
          bytes += op.key.length + op.value.length;
        } else {
          batch._del(op.key, NO_OPTIONS);
          bytes += op.key.length;
        }
      }
      assert.equal(batch.length, ops.length, 'rocksdb batch lost operations');
      batch._writeSync(sync ? SYNC_WRITE : ASYNC_WRITE);
    } finally {
      batch._clear();
      // Clearing keeps the native buffer's capacity: after an unusually large write, start
      // afresh rather than hold that memory for good.
      if (bytes > REUSED_BATCH_BYTES_MAX) this.renewBatch();
    }
  }

  private renewBatch(): void {
    void this.batch.close().catch(() => undefined);
    this.batch = this.db._chainedBatch();
  }

  /**
   * Makes every batch written so far durable: an empty batch written with sync makes RocksDB
   * fdatasync its WAL, which holds all earlier batches (checked with strace on
   * @nxtedition/rocksdb 12: one 19-byte WAL record, then fdatasync). The binding writes
   * batches on the calling thread, so this blocks the event loop for one disk flush: meant
   * for rare points such as a snapshot, after which the raft WAL no longer replays the
   * entries below it.
   */
  sync(): void {
    assert.equal(this.db.status, 'open', 'rocksdb is not open');
    assert.equal(this.batch.length, 0, 'the shared rocksdb batch is in use');
    this.batch._writeSync(SYNC_WRITE);
  }

  /** Ordered scan in chunks; the iterator reads one implicit snapshot of the database. */
  async *scan(options: ScanOptions): AsyncGenerator<[Buffer, Buffer]> {
    const values = options.keysOnly !== true;
    const iterator = this.db.iterator({ gte: options.gte, lt: options.lt, reverse: options.reverse ?? false, values });
    try {
      for (;;) {
        const entries = await iterator.nextv(options.chunk ?? 1000);
        if (entries.length === 0) return;
        if (values) yield* entries;
        else for (const [key] of entries) yield [key, EMPTY];
      }
    } finally {
      await iterator.close();
    }
  }

  /** Bytes of the database directory on disk (all files: tables, logs, manifest). */
  directoryBytes(): number {
    let total = 0;
    for (const name of readdirSync(this.location)) {
      const stats = statSync(join(this.location, name), { throwIfNoEntry: false });
      if (stats?.isFile() === true) total += stats.size;
    }
    return total;
  }

  /** RocksDB's estimate of live data (tables) plus memtables. */
  liveBytes(): number {
    return this.numericProperty('rocksdb.estimate-live-data-size') + this.numericProperty('rocksdb.cur-size-all-mem-tables');
  }

  /** A numeric RocksDB property (e.g. "rocksdb.total-sst-files-size"), 0 if unknown. */
  numericProperty(name: string): number {
    const value = Number(this.db.getProperty(name));
    return Number.isFinite(value) ? value : 0;
  }
}
