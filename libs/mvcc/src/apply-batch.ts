// An apply batch: many writes (one per raft entry, say) gathered into ONE RocksDB write
// batch together with the caller's meta (applied index, term) and raw-space records.
//
//   const batch = await store.beginBatch();
//   for (const entry of committedEntries) {
//     try { results.push(await batch.put(request)); } catch (e) { results.push(e); }
//   }
//   await batch.commit({ appliedIndex: last.index, term: last.term });
//
// Each write op gets its own main revision and its own response; an op that throws
// changed nothing, and the batch stays usable. Ops of one batch run one at a time
// (await each before the next). Reads through the batch (range, and the reads inside a
// txn) see the batch's earlier writes; reads through the store see only committed data.
// Nothing is visible to store readers or listeners until commit() has written the batch.
// A batch must be committed (possibly with no writes) before the next one can begin.
import assert from 'node:assert/strict';
import { CompactedError, FutureRevisionError } from './errors';
import type { KeyIndex } from './key-index';
import { KeySpace, KeySpaces, metaDbKey, encodeU64 } from './keyspaces';
import { encodeRecord } from './kv-codec';
import { executeRange, type ReadView } from './range';
import type {
  CompactResult,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from './requests';
import { encodeRevision, type Revision, revisionId } from './revision';
import type { BatchOp } from './rocks';
import { checkPutRequest, checkRangeRequest, checkTxnRequest } from './txn-check';
import { EventType, type Event, type KeyValue } from './types';
import {
  applyDeleteRange,
  applyPut,
  applyTxn,
  checkPutApplies,
  type LeaseHooks,
  RevisionScope,
  type WriteSink,
} from './write-ops';

/** Raft position of the last entry a batch covers; committed with the data. */
export interface ApplyMeta {
  appliedIndex: number;
  term: number;
}

/** Everything a batch hands to the store on commit. */
export interface BatchCommit {
  ops: BatchOp[];
  events: Event[];
  /** Store revision after the batch. */
  revision: number;
  /** The raft position the batch covers, if the caller gave one (already in `ops`). */
  meta: ApplyMeta | undefined;
  /** Compactions requested in the batch (ascending), with their completion handles. */
  compactions: Array<{ revision: number; physical: Deferred }>;
}

/** The store as a batch sees it. */
export interface BatchHost {
  readonly index: KeyIndex;
  readonly leases: LeaseHooks | undefined;
  readonly maxTxnOps: number;
  currentRevision(): number;
  compactRevision(): number;
  /** Committed records of these revisions (throws if one is missing). */
  fetchCommitted(revisions: readonly Revision[], readRevision: number): Promise<KeyValue[]>;
  commitBatch(commit: BatchCommit): Promise<void>;
  /** Makes reads that start from now on wait until this batch's commit (holdReadsUntilCommit). */
  holdReadsUntilCommit(): void;
  /** Throws once the store is closed or failed. */
  assertUsable(): void;
  /** Makes the store unusable (every later call throws); reopening rebuilds it from RocksDB. */
  failApply(error: unknown): void;
}

export interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

export function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // a caller may ignore it; failures also surface elsewhere
  return { promise, resolve, reject };
}

export class ApplyBatch implements WriteSink {
  private revision: number;
  private compactedTo: number;
  private readonly ops: BatchOp[] = [];
  /** Records written by this batch, by revisionId, so its own reads find them. */
  private readonly overlay = new Map<string, KeyValue>();
  private readonly events: Event[] = [];
  private readonly compactions: BatchCommit['compactions'] = [];
  private busy = false;
  private finished = false;

  constructor(private readonly host: BatchHost) {
    this.revision = host.currentRevision();
    this.compactedTo = host.compactRevision();
  }

  get index(): KeyIndex {
    return this.host.index;
  }

  get leases(): LeaseHooks | undefined {
    return this.host.leases;
  }

  /** The revision after the writes so far (what a response header reports). */
  currentRevision(): number {
    return this.revision;
  }

  range(request: RangeRequest): Promise<RangeResponse> {
    checkRangeRequest(request);
    return this.exclusive(() => executeRange(this.view(this.revision), request));
  }

  put(request: PutRequest): Promise<PutResponse> {
    checkPutRequest(request);
    return this.inScope(async (scope) => {
      checkPutApplies(scope, this.leases, request);
      return applyPut(scope, request);
    });
  }

  deleteRange(request: DeleteRangeRequest): Promise<DeleteRangeResponse> {
    checkRangeRequest(request);
    return this.inScope((scope) => applyDeleteRange(scope, request));
  }

  txn(request: TxnRequest): Promise<TxnResponse> {
    checkTxnRequest(request, this.host.maxTxnOps);
    return this.inScope((scope) => applyTxn(scope, this.leases, request));
  }

  /**
   * Schedules a compaction at `revision`. The index and RocksDB are compacted after the
   * batch commits; `physical` resolves once superseded history is deleted from disk.
   */
  compact(revision: number): CompactResult {
    this.assertOpen();
    if (revision <= this.compactedTo) throw new CompactedError();
    if (revision > this.revision) throw new FutureRevisionError();
    this.compactedTo = revision;
    const physical = deferred();
    this.compactions.push({ revision, physical });
    this.ops.push({ type: 'put', key: metaDbKey('scheduledCompactRevision'), value: encodeU64(revision) });
    return { revision, physical: physical.promise };
  }

  /** Writes opaque bytes into a raw key space (leases, auth, members, alarms). */
  rawPut(space: KeySpace, key: Uint8Array, value: Uint8Array): void {
    this.assertRaw(space);
    this.ops.push({ type: 'put', key: space.key(key), value: Buffer.from(value) });
  }

  rawDelete(space: KeySpace, key: Uint8Array): void {
    this.assertRaw(space);
    this.ops.push({ type: 'del', key: space.key(key) });
  }

  /** Stores the member's corruption-check state (MetaKey.consistentHashState) with this batch. */
  setConsistentHashState(state: Uint8Array): void {
    this.assertOpen();
    this.ops.push({ type: 'put', key: metaDbKey('consistentHashState'), value: Buffer.from(state) });
  }

  /**
   * For a caller that answers its clients before commit() (the writes are already durable
   * elsewhere, as a raft entry on a quorum's disks): until this batch is committed, store reads
   * that start wait for it, so a client that heard of a write cannot then read a store without
   * it. Reads already running finish on the state before the batch, as they would have anyway.
   * The caller must commit: until then no read completes.
   */
  holdReadsUntilCommit(): void {
    this.assertOpen();
    this.host.holdReadsUntilCommit();
  }

  /** Writes the batch, with `meta` if given, as one atomic RocksDB write. */
  async commit(meta?: ApplyMeta): Promise<void> {
    this.assertOpen();
    this.finished = true;
    if (meta !== undefined) {
      this.ops.push({ type: 'put', key: metaDbKey('appliedIndex'), value: encodeU64(meta.appliedIndex) });
      this.ops.push({ type: 'put', key: metaDbKey('term'), value: encodeU64(meta.term) });
    }
    if (this.events.length > 0) {
      this.ops.push({ type: 'put', key: metaDbKey('currentRevision'), value: encodeU64(this.revision) });
    }
    await this.host.commitBatch({ ops: this.ops, events: this.events, revision: this.revision, compactions: this.compactions, meta });
  }

  // WriteSink

  record(rev: Revision, kv: KeyValue, tombstone: boolean): void {
    this.ops.push({ type: 'put', key: KeySpaces.history.key(encodeRevision(rev)), value: encodeRecord(kv, tombstone) });
    this.overlay.set(revisionId(rev), kv);
    this.events.push({ type: tombstone ? EventType.DELETE : EventType.PUT, kv });
  }

  view(revision: number): ReadView {
    return {
      index: this.host.index,
      currentRevision: revision,
      compactRevision: this.compactedTo,
      fetch: (revisions, atRev) => this.fetch(revisions, atRev),
    };
  }

  private async fetch(revisions: readonly Revision[], readRevision: number): Promise<KeyValue[]> {
    const missing = revisions.filter((rev) => !this.overlay.has(revisionId(rev)));
    const committed = missing.length === 0 ? [] : await this.host.fetchCommitted(missing, readRevision);
    let next = 0;
    return revisions.map((rev) => {
      const own = this.overlay.get(revisionId(rev));
      // Copy: callers may blank the value (keys_only) and must not touch batch state.
      return own !== undefined ? { ...own } : committed[next++]!;
    });
  }

  private async inScope<T>(write: (scope: RevisionScope) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      const scope = new RevisionScope(this, this.revision + 1);
      let result: T;
      try {
        result = await write(scope);
      } catch (error) {
        // Ops check everything before writing, so a throw after a write is a bug: the index
        // already holds part of the op. Stop the store rather than serve or commit that.
        if (scope.changed) this.host.failApply(error);
        throw error;
      }
      if (scope.changed) this.revision = scope.main;
      return result;
    });
  }

  private async exclusive<T>(run: () => Promise<T>): Promise<T> {
    this.assertOpen();
    assert.ok(!this.busy, 'apply batch ops must run one at a time');
    this.busy = true;
    try {
      return await run();
    } finally {
      this.busy = false;
    }
  }

  private assertOpen(): void {
    this.host.assertUsable();
    assert.ok(!this.finished, 'apply batch already committed');
    assert.ok(!this.busy, 'apply batch is busy with another op');
  }

  private assertRaw(space: KeySpace): void {
    this.assertOpen();
    assert.ok(space.raw, `key space ${space.name} is not writable from outside the store`);
  }
}
