// The revisioned key-value store: RocksDB holds history and meta, the key index is
// rebuilt from history on open, writes go through apply batches (apply-batch.ts).
//
// Invariants:
// - committedRevision is the revision of the last write batch RocksDB accepted; the
//   index may hold higher revisions only while a batch is open, and every read through
//   the store runs at a revision <= committedRevision.
// - compactRevision <= committedRevision; history needed by a read at a revision
//   >= compactRevision is never deleted.
// - the applied index and term on disk always belong to the data beside them: they are
//   written in the same RocksDB batch.
import assert from 'node:assert/strict';
import { ApplyBatch, type ApplyMeta, type BatchCommit, type BatchHost, deferred } from './apply-batch';
import { ReadGates } from './read-gates';
import { BackendSize } from './backend-size/backend-size';
import { compactHistory, type PhysicalCompaction } from './compaction';
import { recoverDefrag, rewriteDatabase } from './defrag';
import { CompactedError, FutureRevisionError, StoreClosedError } from './errors';
import { hashAllHistory, hashHistoryUpTo, ownKeyValue, readHistoryEvents, rebuildIndex } from './history';
import { createKeyIndex, type KeyIndex } from './key-index';
import { decodeU64, type KeySpace, KeySpaces, metaDbKey, type MetaKeyName } from './keyspaces';
import { decodeRecord } from './kv-codec';
import { blankValues, executeRange, planRange, type RangePlan, type ReadView } from './range';
import type {
  CompactResult,
  DeleteRangeRequest,
  DeleteRangeResponse,
  HashKvResult,
  HashResult,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangePages,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from './requests';
import { encodeRevision, type Revision } from './revision';
import { Rocks } from './rocks';
import { checkRangeRequest, DEFAULT_MAX_TXN_OPS } from './txn-check';
import type {
  CommittedListener,
  CompactedListener,
  KeyRange,
  KeyValue,
  ReadEventsOptions,
  ReadEventsResult,
  WatchSource,
} from './types';
import type { LeaseHooks } from './write-ops';

/** The revision of a store that has never been written (etcd's starting revision). */
export const emptyStoreRevision = 1;

export interface StoreOptions {
  /**
   * fsync RocksDB's log on every batch. Off by default: the raft WAL is the durable
   * record, and after a crash the member replays it from appliedIndex().
   */
  syncWrites?: boolean;
  /** History records scanned per write batch of physical compaction (default 1000, as etcd's). */
  compactionBatchSize?: number;
  /** etcd's --max-txn-ops (default 128). */
  maxTxnOps?: number;
  /** The lessor's view; without it any lease ID is accepted and nothing is attached. */
  leases?: LeaseHooks;
  /**
   * etcd's --backend-batch-interval (ms, default 100): how long writes gather before the
   * backend size model commits them (backend-size/backend-size.ts). 0 commits with every batch.
   */
  backendBatchIntervalMs?: number;
  /** etcd's --backend-batch-limit (default 10,000 writes per backend commit). */
  backendBatchLimit?: number;
}

/** Values are read from RocksDB in chunks of this many keys. */
const FETCH_CHUNK = 1000;

export class MvccStore implements WatchSource, BatchHost {
  readonly index: KeyIndex = createKeyIndex();
  readonly leases: LeaseHooks | undefined;
  readonly maxTxnOps: number;
  /**
   * An empty store is at revision 1, as etcd's is, so the first write gets revision 2 and
   * revisions clients see match etcd's for the same history.
   */
  private committedRevision = emptyStoreRevision;
  private compactedTo = 0;
  private applied = { appliedIndex: 0, term: 0 };
  private readonly committedListeners = new Set<CommittedListener>();
  private readonly compactedListeners = new Set<CompactedListener>();
  /** Resolves when the previous batch is committed; batches are strictly one after another. */
  private batchTurn: Promise<void> = Promise.resolve();
  /** Physical compactions run one after another on this chain. */
  private compactionChain: Promise<void> = Promise.resolve();
  private failure: unknown = undefined;
  private closed = false;
  /** etcd's bbolt file size for this data (set by recover()). */
  private backendSize!: BackendSize;

  /** Reads in flight and the gates holding new ones (defragment, answers ahead of a commit). */
  private readonly gates = new ReadGates(() => this.assertUsable());

  private constructor(
    private rocks: Rocks,
    private readonly options: StoreOptions,
  ) {
    this.leases = options.leases;
    this.maxTxnOps = options.maxTxnOps ?? DEFAULT_MAX_TXN_OPS;
  }

  /** Opens (or creates) the store in `directory` and rebuilds the index from history. */
  static async open(directory: string, options: StoreOptions = {}): Promise<MvccStore> {
    recoverDefrag(directory);
    const store = new MvccStore(await Rocks.open(directory), options);
    await store.recover();
    return store;
  }

  get directory(): string {
    return this.rocks.location;
  }

  // Revisions and raft position

  currentRevision(): number {
    return this.committedRevision;
  }

  compactRevision(): number {
    return this.compactedTo;
  }

  /** Raft index of the last entry committed with the data (0 for a new store). */
  appliedIndex(): number {
    return this.applied.appliedIndex;
  }

  term(): number {
    return this.applied.term;
  }

  // Writes

  /** Waits for the previous batch to commit, then opens the next one. */
  async beginBatch(): Promise<ApplyBatch> {
    const release = await this.acquireTurn();
    const batch = new ApplyBatch(this);
    this.releaseTurn = release;
    return batch;
  }

  put(request: PutRequest, meta?: ApplyMeta): Promise<PutResponse> {
    return this.single((batch) => batch.put(request), meta);
  }

  deleteRange(request: DeleteRangeRequest, meta?: ApplyMeta): Promise<DeleteRangeResponse> {
    return this.single((batch) => batch.deleteRange(request), meta);
  }

  txn(request: TxnRequest, meta?: ApplyMeta): Promise<TxnResponse> {
    return this.single((batch) => batch.txn(request), meta);
  }

  compact(revision: number, meta?: ApplyMeta): Promise<CompactResult> {
    return this.single(async (batch) => batch.compact(revision), meta);
  }

  // Reads (committed state only)

  range(request: RangeRequest): Promise<RangeResponse> {
    checkRangeRequest(request);
    return this.gates.read(() => executeRange(this.committedView(), request));
  }

  /**
   * The same range as range(), with the key-values handed out a page at a time so a caller
   * can encode each page and drop it: a range over 100k keys then never holds every value
   * read from RocksDB and the encoded response at once. count/more/revision are known up
   * front (decided from the index). Pages are read lazily; a compaction past the read
   * revision between pages makes the next page fail with CompactedError, as range() would.
   */
  async rangePages(request: RangeRequest, pageKeys = FETCH_CHUNK): Promise<RangePages> {
    checkRangeRequest(request);
    assert.ok(Number.isInteger(pageKeys) && pageKeys > 0, 'pageKeys must be a positive integer');
    const plan = await this.gates.read(() => planRange(this.committedView(), request));
    return { count: plan.count, more: plan.more, revision: plan.revision, pages: this.pagesOf(plan, pageKeys) };
  }

  private async *pagesOf(plan: RangePlan, pageKeys: number): AsyncGenerator<KeyValue[]> {
    for (let at = 0; at < (plan.sortedKvs ?? plan.revisions).length; at += pageKeys) {
      const kvs =
        plan.sortedKvs !== undefined
          ? plan.sortedKvs.slice(at, at + pageKeys)
          : await this.gates.read(() => this.fetchCommitted(plan.revisions.slice(at, at + pageKeys), plan.atRev));
      if (plan.keysOnly) blankValues(kvs);
      yield kvs;
    }
  }

  /** Reads one record of a raw key space (leases, auth, members, alarms) or meta. */
  getRaw(space: KeySpace, key: Uint8Array): Promise<Buffer | undefined> {
    return this.gates.read(() => this.rocks.get(space.key(key)));
  }

  /**
   * All records of a key space in key order, as [key suffix, value]. Iterate it to the
   * end or break out of the loop: an abandoned scan holds off defragment().
   */
  async *scanRaw(space: KeySpace): AsyncGenerator<[Buffer, Buffer]> {
    await this.gates.enter();
    try {
      for await (const [dbKey, value] of this.rocks.scan(space.bounds())) yield [space.suffixOf(dbKey), value];
    } finally {
      this.gates.leave();
    }
  }

  // Watch support

  onCommitted(listener: CommittedListener): () => void {
    this.committedListeners.add(listener);
    return () => this.committedListeners.delete(listener);
  }

  onCompacted(listener: CompactedListener): () => void {
    this.compactedListeners.add(listener);
    return () => this.compactedListeners.delete(listener);
  }

  async readEvents(
    fromRevision: number,
    toRevision: number,
    range: KeyRange,
    limit: number,
    options: ReadEventsOptions = {},
  ): Promise<ReadEventsResult> {
    assert.ok(limit > 0 && fromRevision > 0, 'readEvents needs limit > 0 and fromRevision > 0');
    return this.gates.read(async () => {
      // Revision compactedTo itself stays readable: its writes are the latest of their keys
      // at or below it, which compaction keeps (etcd lets a watch start exactly there).
      if (fromRevision < this.compactedTo) throw new CompactedError();
      if (toRevision > this.committedRevision) throw new FutureRevisionError();
      if (fromRevision > toRevision) return { events: [], nextRevision: fromRevision };
      const result = await readHistoryEvents(this.rocks, { fromRevision, toRevision, range, limit });
      if (options.withPrevKv === true) {
        for (const event of result.events) {
          const prevKv = await this.lookUpPrevKv(event.kv);
          if (prevKv !== undefined) event.prevKv = prevKv;
        }
      }
      return result;
    });
  }

  prevKvOf(kv: KeyValue): Promise<KeyValue | undefined> {
    return this.gates.read(() => this.lookUpPrevKv(kv));
  }

  private async lookUpPrevKv(kv: KeyValue): Promise<KeyValue | undefined> {
    const previous = this.index.get(kv.key, kv.modRevision - 1);
    if (previous === undefined) return undefined;
    const [bytes] = await this.rocks.getMany([historyKey(previous.revision)]);
    return bytes === undefined ? undefined : ownKeyValue(decodeRecord(bytes).kv);
  }

  // Hashes (algorithms in history.ts)

  async hash(): Promise<HashResult> {
    this.assertUsable();
    await this.compactionChain;
    return this.gates.read(async () => {
      const revision = this.committedRevision;
      return { hash: await hashAllHistory(this.rocks, revision), revision };
    });
  }

  hashKV(revision: number): Promise<HashKvResult> {
    return this.gates.read(async () => {
      const compactRevision = this.compactedTo;
      if (revision > 0 && revision <= compactRevision) throw new CompactedError();
      if (revision > this.committedRevision) throw new FutureRevisionError();
      const upTo = revision > 0 ? revision : this.committedRevision;
      const keep = this.index.keep(compactRevision);
      return { hash: await hashHistoryUpTo(this.rocks, upTo, compactRevision, keep), revision: upTo, compactRevision };
    });
  }

  /**
   * Makes every committed batch durable (batches are written without a sync: the member's raft
   * WAL is the durable record). Blocks the thread for one RocksDB WAL fdatasync; call it
   * before anything relies on the store alone, e.g. before a raft snapshot lets the WAL go.
   */
  syncToDisk(): void {
    this.rocks.sync();
  }

  // Size (for the quota alarm and endpoint status)
  //
  // dbSizeBytes/dbSizeInUse are the sizes etcd 3.4 would report for the same data and
  // history: a model of its bbolt file's page accounting (backend-size/), fed with every
  // committed batch, compaction and defrag, so quotas and status figures carry over from
  // etcd unchanged. They change when the model commits (every 100 ms of writes, as etcd's
  // backend), are in memory and cost nothing to read. diskSizeBytes/diskLiveBytes are what
  // RocksDB really uses on disk.

  /** etcd's dbSize: the bbolt file's high-water mark (pages × 4 KiB). */
  dbSizeBytes(): number {
    return this.backendSize.size();
  }

  /** etcd's dbSizeInUse: dbSizeBytes minus bbolt's free pages. */
  dbSizeInUse(): number {
    return this.backendSize.sizeInUse();
  }

  /** Bytes of the RocksDB directory on disk (all files: tables, logs, manifest). */
  diskSizeBytes(): number {
    if (this.gates.rewriting) return this.lastDiskBytes; // defragment() is swapping directories
    this.lastDiskBytes = this.rocks.directoryBytes();
    return this.lastDiskBytes;
  }

  private lastDiskBytes = 0;

  /** RocksDB's estimate of live data (tables) plus memtables. */
  diskLiveBytes(): number {
    return this.rocks.liveBytes();
  }

  /**
   * etcd's defrag as far as the reported sizes go: the bbolt model is rebuilt as etcd's
   * defrag rewrites its file, RocksDB is left alone (defragment() also rewrites RocksDB).
   * Waits for the open batch and running compactions, like etcd's defrag.
   */
  async defragmentBackendSize(): Promise<void> {
    const release = await this.acquireTurn();
    try {
      await this.compactionChain;
      this.backendSize.defragment();
      await this.rocks.write([this.backendSize.highWaterOp()], this.options.syncWrites === true);
    } finally {
      release();
    }
  }

  /**
   * Rewrites the database without its garbage (see defrag.ts). Waits for the open batch
   * to commit, for running compactions and for reads in flight; holds new batches and
   * reads until done.
   */
  async defragment(): Promise<void> {
    const release = await this.acquireTurn();
    const letReadsThrough = this.gates.holdForRewrite();
    try {
      await this.compactionChain;
      await this.gates.readersDone();
      this.rocks = await rewriteDatabase(this.rocks, this.rocks.location);
      this.backendSize.defragment();
      await this.rocks.write([this.backendSize.highWaterOp()], this.options.syncWrites === true);
    } catch (error) {
      this.failure ??= error;
      throw error;
    } finally {
      letReadsThrough();
      release();
    }
  }

  /** Resolves when every scheduled physical compaction has finished. */
  compactionsSettled(): Promise<void> {
    return this.compactionChain;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.gates.releaseCommitHold(); // reads held for an open batch now fail: it will not commit
    await this.compactionChain.catch(() => undefined);
    // Wait for a commit in flight; a batch that is open but not committing is abandoned
    // (its commit will fail with StoreClosedError and nothing of it reaches disk).
    if (this.releaseTurn === undefined) await this.batchTurn;
    if (this.failure === undefined) {
      this.backendSize.close();
      await this.rocks.write([this.backendSize.highWaterOp()], this.options.syncWrites === true);
    }
    await this.rocks.close();
  }

  // BatchHost

  async fetchCommitted(revisions: readonly Revision[], readRevision: number): Promise<KeyValue[]> {
    const kvs: KeyValue[] = [];
    for (let at = 0; at < revisions.length; at += FETCH_CHUNK) {
      const chunk = revisions.slice(at, at + FETCH_CHUNK);
      const values = await this.rocks.getMany(chunk.map(historyKey));
      values.forEach((bytes, i) => {
        if (bytes === undefined) {
          // Only a read below the compact revision can lose records to compaction.
          if (readRevision < this.compactedTo) throw new CompactedError();
          assert.fail(`history record ${chunk[i]!.main}.${chunk[i]!.sub} missing`);
        }
        kvs.push(decodeRecord(bytes).kv);
      });
    }
    return kvs;
  }

  async commitBatch(commit: BatchCommit): Promise<void> {
    this.assertUsable();
    const release = this.takeTurn();
    try {
      if (commit.ops.length > 0) {
        const highWater = this.backendSize.highWaterOpIfMoved();
        if (highWater !== undefined) commit.ops.push(highWater);
        await this.rocks.write(commit.ops, this.options.syncWrites === true);
      }
    } catch (error) {
      // The index already holds the batch: continuing would serve data RocksDB lacks.
      this.failure = error;
      for (const compaction of commit.compactions) compaction.physical.reject(error);
      this.gates.releaseCommitHold(); // held reads now fail (the store is unusable)
      release();
      throw error;
    }
    this.backendSize.applyBatch(commit.ops);
    this.committedRevision = commit.revision;
    if (commit.meta !== undefined) this.applied = { appliedIndex: commit.meta.appliedIndex, term: commit.meta.term };
    this.gates.releaseCommitHold();
    for (const compaction of commit.compactions) this.scheduleCompaction(compaction.revision, compaction.physical);
    release();
    if (commit.events.length > 0) for (const listener of this.committedListeners) listener(commit.events, commit.revision);
  }

  holdReadsUntilCommit(): void {
    assert.ok(this.releaseTurn !== undefined, 'holding reads without an open batch');
    this.gates.holdUntilCommit();
  }

  // Internals

  private releaseTurn: (() => void) | undefined;

  /** Waits until no batch (or defrag) holds the write turn, then takes it. */
  private async acquireTurn(): Promise<() => void> {
    this.assertUsable();
    const previous = this.batchTurn;
    let release!: () => void;
    this.batchTurn = new Promise<void>((resolve) => (release = resolve));
    await previous;
    if (this.closed || this.failure !== undefined) release();
    this.assertUsable();
    return release;
  }

  private takeTurn(): () => void {
    const release = this.releaseTurn;
    assert.ok(release !== undefined, 'commit without an open batch');
    this.releaseTurn = undefined;
    return release;
  }

  private async single<T>(run: (batch: ApplyBatch) => Promise<T>, meta?: ApplyMeta): Promise<T> {
    const batch = await this.beginBatch();
    let result: T;
    try {
      result = await run(batch);
    } finally {
      await batch.commit(meta);
    }
    return result;
  }

  private committedView(): ReadView {
    return {
      index: this.index,
      currentRevision: this.committedRevision,
      compactRevision: this.compactedTo,
      fetch: (revisions, atRev) => this.fetchCommitted(revisions, atRev),
    };
  }

  private scheduleCompaction(revision: number, physical = deferred()): void {
    assert.ok(revision > this.compactedTo && revision <= this.committedRevision, 'compaction out of order');
    const keep = this.index.compact(revision);
    this.compactedTo = revision;
    for (const listener of this.compactedListeners) listener(revision);
    const job = this.compactionJob(revision, keep);
    this.compactionChain = this.compactionChain
      .then(() => compactHistory(this.rocks, job))
      .then(
        () => physical.resolve(),
        (error: unknown) => {
          this.failure ??= error;
          physical.reject(error);
        },
      );
  }

  private compactionJob(revision: number, keep: ReadonlySet<string>): PhysicalCompaction {
    return {
      revision,
      keep,
      batchSize: this.options.compactionBatchSize ?? 1000,
      sync: this.options.syncWrites === true,
      onWritten: (ops, last) => this.backendSize.applyCompaction(ops, last),
    };
  }

  private async recover(): Promise<void> {
    const meta = async (name: MetaKeyName): Promise<number> => {
      const bytes = await this.rocks.get(metaDbKey(name));
      return bytes === undefined ? 0 : decodeU64(bytes);
    };
    this.applied = { appliedIndex: await meta('appliedIndex'), term: await meta('term') };
    const persistedPages = await meta('backendPages');
    // A store that never committed anything is new: it starts as etcd's fresh backend.
    const sizeRebuild = persistedPages > 0 || !(await this.isEmpty()) ? BackendSize.rebuild(this.backendSizeOptions()) : undefined;
    if (sizeRebuild !== undefined) {
      for await (const [dbKey, value] of this.rocks.scan({ gte: Buffer.from([0]), lt: KeySpaces.history.bounds().gte })) sizeRebuild.addRecord(dbKey, value);
      for await (const [dbKey, value] of this.rocks.scan({ gte: KeySpaces.history.bounds().lt, lt: Buffer.from([0xff]) })) sizeRebuild.addRecord(dbKey, value);
    }
    const lastInHistory = await rebuildIndex(this.rocks, this.index, sizeRebuild && ((key, bytes) => sizeRebuild.addHistory(key, bytes)));
    this.backendSize = sizeRebuild?.finish(persistedPages) ?? BackendSize.fresh(this.backendSizeOptions());
    const scheduled = await meta('scheduledCompactRevision');
    const finished = await meta('finishedCompactRevision');
    this.committedRevision = Math.max(emptyStoreRevision, lastInHistory, await meta('currentRevision'), scheduled);
    if (scheduled > 0) {
      const keep = this.index.compact(scheduled);
      this.compactedTo = scheduled;
      if (finished < scheduled) {
        // Resume the compaction a crash or close interrupted.
        this.compactionChain = compactHistory(this.rocks, this.compactionJob(scheduled, keep)).then(() => undefined);
        await this.compactionChain;
      }
    }
    this.attachLeases();
  }

  private async isEmpty(): Promise<boolean> {
    for await (const _ of this.rocks.scan({ gte: Buffer.from([0]), lt: Buffer.from([0xff]), keysOnly: true })) return false;
    return true;
  }

  private backendSizeOptions(): { batchIntervalMs?: number; batchLimit?: number } {
    const { backendBatchIntervalMs: batchIntervalMs, backendBatchLimit: batchLimit } = this.options;
    return { ...(batchIntervalMs !== undefined && { batchIntervalMs }), ...(batchLimit !== undefined && { batchLimit }) };
  }

  /** Tells the lessor which live keys carry which lease (it keeps that only in memory). */
  private attachLeases(): void {
    const hooks = this.leases;
    if (hooks === undefined) return;
    this.index.visit({ start: Buffer.alloc(0), end: null }, this.committedRevision, (version) => {
      if (version.lease !== 0n) hooks.attach(version.key, version.lease);
    });
  }

  /** A write op threw after changing the index: the in-memory state is no longer trustworthy. */
  failApply(error: unknown): void {
    this.failure ??= error;
    this.gates.releaseCommitHold(); // held reads now fail
  }

  assertUsable(): void {
    if (this.closed) throw new StoreClosedError();
    if (this.failure !== undefined) throw new Error(`mvcc: store failed: ${String(this.failure)}`);
  }
}

function historyKey(rev: Revision): Buffer {
  return KeySpaces.history.key(encodeRevision(rev));
}
