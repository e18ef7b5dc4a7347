// Put, DeleteRange and Txn inside one main revision.
//
// A RevisionScope hands out sub-revisions of one main revision: every write of a txn
// shares the main revision, in op order. The store's revision moves on only if the scope
// wrote something (a txn that only reads, or deletes nothing, leaves it alone).
//
// Nothing is written until every check passed: a txn evaluates all compares (at every
// nesting level, against the state before the txn, as etcd does), then checks the puts
// on the chosen path (ignore_value/ignore_lease need an existing key, leases must exist),
// and only then executes. An error therefore never leaves half a txn behind.
import assert from 'node:assert/strict';
import { compareHolds } from './compare';
import { KeyNotFoundError, LeaseNotFoundError } from './errors';
import type { IndexedVersion, KeyIndex, KeyInterval } from './key-index';
import { intervalContains, toBuffer, toInterval } from './key-range';
import { tombstoneKv } from './kv-codec';
import { executeRange, type ReadView, readRevision } from './range';
import type {
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RequestOp,
  ResponseOp,
  TxnRequest,
  TxnResponse,
} from './requests';
import { revisionOf, type Revision } from './revision';
import type { KeyValue } from './types';

/** The lessor's part in applying writes (the member provides it). */
export interface LeaseHooks {
  exists(lease: bigint): boolean;
  /** The key now belongs to the lease. Called during apply, before the batch commits. */
  attach(key: Buffer, lease: bigint): void;
  /** The key no longer belongs to the lease (overwritten with another lease, or deleted). */
  detach(key: Buffer, lease: bigint): void;
}

/** Where a scope's writes go: the open apply batch. */
export interface WriteSink {
  readonly index: KeyIndex;
  readonly leases: LeaseHooks | undefined;
  /** Persists a history record in the batch and queues its event. */
  record(rev: Revision, kv: KeyValue, tombstone: boolean): void;
  /** A read view at `revision` that sees the batch's own uncommitted writes. */
  view(revision: number): ReadView;
}

/** Reads of the newest state inside a batch: the index's latest revision of a key. */
const LATEST = Number.MAX_SAFE_INTEGER;

export class RevisionScope {
  private sub = 0;

  constructor(
    private readonly sink: WriteSink,
    readonly main: number,
  ) {}

  get changed(): boolean {
    return this.sub > 0;
  }

  /** The revision a read inside the scope runs at: its own writes once there are some. */
  get readRevision(): number {
    return this.changed ? this.main : this.main - 1;
  }

  view(): ReadView {
    return this.sink.view(this.readRevision);
  }

  latest(key: Buffer): IndexedVersion | undefined {
    return this.sink.index.get(key, LATEST);
  }

  writePut(key: Buffer, value: Buffer, lease: bigint): KeyValue {
    const previous = this.latest(key);
    const rev = revisionOf(this.main, this.sub++);
    const indexed = this.sink.index.put(key, rev, lease);
    const kv: KeyValue = {
      key: indexed.key,
      createRevision: indexed.createRevision,
      modRevision: rev.main,
      version: indexed.version,
      value: Buffer.from(value),
      lease,
    };
    this.sink.record(rev, kv, false);
    const hooks = this.sink.leases;
    if (hooks !== undefined && previous?.lease !== lease) {
      if (previous !== undefined && previous.lease !== 0n) hooks.detach(indexed.key, previous.lease);
      if (lease !== 0n) hooks.attach(indexed.key, lease);
    }
    return kv;
  }

  writeTombstone(live: IndexedVersion): void {
    const rev = revisionOf(this.main, this.sub++);
    this.sink.index.tombstone(live.key, rev);
    this.sink.record(rev, tombstoneKv(live.key, rev.main), true);
    if (this.sink.leases !== undefined && live.lease !== 0n) this.sink.leases.detach(live.key, live.lease);
  }
}

/**
 * Throws what applyPut would throw, without writing. `deletedBefore` tells whether a delete
 * that runs earlier in the same txn removes the key (only a "\0" delete can cover a put
 * there, see txn-check.ts). etcd 3.4 checks against the state before the txn and then
 * panics in its apply loop for such a put; Keel refuses the txn with "key not found".
 */
export function checkPutApplies(
  scope: RevisionScope,
  leases: LeaseHooks | undefined,
  request: PutRequest,
  deletedBefore: (key: Buffer) => boolean = () => false,
): void {
  const needsPrevious = request.ignoreValue === true || request.ignoreLease === true;
  const key = toBuffer(request.key);
  if (needsPrevious && (scope.latest(key) === undefined || deletedBefore(key))) throw new KeyNotFoundError();
  const lease = request.lease ?? 0n;
  if (request.ignoreLease !== true && lease !== 0n && leases !== undefined && !leases.exists(lease)) {
    throw new LeaseNotFoundError();
  }
}

export async function applyPut(scope: RevisionScope, request: PutRequest): Promise<PutResponse> {
  const key = toBuffer(request.key);
  const previous = scope.latest(key);
  let prevKv: KeyValue | undefined;
  if (previous !== undefined && (request.prevKv === true || request.ignoreValue === true)) {
    [prevKv] = await scope.view().fetch([previous.revision], scope.readRevision);
  }
  // checkPutApplies ran first: ignore_* puts have a live key here.
  assert.ok(previous !== undefined || (request.ignoreValue !== true && request.ignoreLease !== true), 'ignore_* put of a missing key');
  const value = request.ignoreValue === true ? prevKv!.value : toBuffer(request.value ?? new Uint8Array(0));
  const lease = request.ignoreLease === true ? previous!.lease : (request.lease ?? 0n);
  scope.writePut(key, value, lease);
  return { prevKv: request.prevKv === true ? prevKv : undefined, revision: scope.main };
}

export async function applyDeleteRange(scope: RevisionScope, request: DeleteRangeRequest): Promise<DeleteRangeResponse> {
  const interval = toInterval(request);
  const live: IndexedVersion[] = [];
  if (interval !== undefined) scope.view().index.visit(interval, LATEST, (version) => void live.push(version));
  const wantPrevKvs = request.prevKv === true && live.length > 0;
  const prevKvs = wantPrevKvs ? await scope.view().fetch(live.map((v) => v.revision), scope.readRevision) : [];
  for (const version of live) scope.writeTombstone(version);
  return { deleted: live.length, prevKvs, revision: scope.readRevision };
}

/** The branch a txn takes at every nesting level, decided before anything is written. */
interface TxnPath {
  succeeded: boolean;
  ops: readonly RequestOp[];
  /** The path of each nested txn among `ops`, in order. */
  nested: TxnPath[];
}

export async function applyTxn(scope: RevisionScope, leases: LeaseHooks | undefined, request: TxnRequest): Promise<TxnResponse> {
  const path = await choosePath(scope.view(), scope.readRevision, request);
  checkPath(scope, leases, path);
  const response = await executePath(scope, path);
  fillTxnRevisions(response, scope.readRevision);
  return response;
}

async function choosePath(view: ReadView, atRev: number, request: TxnRequest): Promise<TxnPath> {
  let succeeded = true;
  for (const compare of request.compare ?? []) {
    if (!(await compareHolds(view, atRev, compare))) {
      succeeded = false;
      break;
    }
  }
  const ops = (succeeded ? request.success : request.failure) ?? [];
  const nested: TxnPath[] = [];
  for (const op of ops) if ('txn' in op) nested.push(await choosePath(view, atRev, op.txn));
  return { succeeded, ops, nested };
}

/**
 * Every check that could fail an op, in execution order, before anything is written: a
 * throw in the middle of executePath would leave half a txn in the index.
 */
function checkPath(scope: RevisionScope, leases: LeaseHooks | undefined, path: TxnPath, deletes: KeyInterval[] = []): void {
  const deletedBefore = (key: Buffer): boolean => deletes.some((interval) => intervalContains(interval, key));
  let nextNested = 0;
  for (const op of path.ops) {
    if ('put' in op) checkPutApplies(scope, leases, op.put, deletedBefore);
    else if ('range' in op) readRevision(scope.view(), op.range.revision);
    else if ('deleteRange' in op) {
      const interval = toInterval(op.deleteRange);
      if (interval !== undefined) deletes.push(interval);
    } else checkPath(scope, leases, path.nested[nextNested++]!, deletes);
  }
}

async function executePath(scope: RevisionScope, path: TxnPath): Promise<TxnResponse> {
  const responses: ResponseOp[] = [];
  let nextNested = 0;
  for (const op of path.ops) {
    if ('range' in op) responses.push({ range: await executeRange(scope.view(), op.range) });
    else if ('put' in op) responses.push({ put: await applyPut(scope, op.put) });
    else if ('deleteRange' in op) responses.push({ deleteRange: await applyDeleteRange(scope, op.deleteRange) });
    else {
      const nested = path.nested[nextNested++];
      assert.ok(nested !== undefined, 'txn path lost a nested txn');
      responses.push({ txn: await executePath(scope, nested) });
    }
  }
  return { succeeded: path.succeeded, responses, revision: scope.readRevision };
}

/** A txn (and every nested txn) reports the revision after the whole txn. */
function fillTxnRevisions(response: TxnResponse, revision: number): void {
  response.revision = revision;
  for (const op of response.responses) if ('txn' in op) fillTxnRevisions(op.txn, revision);
}
