// Range execution: the index picks the visible version of every key in the interval,
// filters and sorts on what the index knows (mod/create revision, version, key), and
// only the page that is returned is read from RocksDB. count_only reads no values.
//
// Rules (as etcd 3.4):
// - revision 0 reads the current revision; > current -> FutureRevisionError;
//   < compact revision -> CompactedError (reading exactly at it is allowed);
// - count is the number of keys in the range at that revision, before the min/max
//   filters and the limit; count_only returns it with no kvs and more = false;
// - sort_target other than KEY with sort_order NONE sorts ASCEND; ties keep ascending
//   key order in both directions (etcd sorts the key-ordered result with Go's sort.Sort
//   and sort.Reverse, which leaves equal elements where they were: checked against etcd
//   3.4 by test/txn-referee.test.ts);
// - more = there were more matching keys than limit.
import { CompactedError, FutureRevisionError } from './errors';
import type { IndexedVersion, KeyIndex } from './key-index';
import { toInterval } from './key-range';
import { type RangeRequest, type RangeResponse, SortOrder, SortTarget } from './requests';
import type { Revision } from './revision';
import type { KeyValue } from './types';

/** What a range needs from its surroundings: a consistent view at some revision. */
export interface ReadView {
  readonly index: KeyIndex;
  /** The newest revision this view may read. */
  readonly currentRevision: number;
  readonly compactRevision: number;
  /**
   * The stored KeyValues of these revisions, in the same order, for a read at atRev
   * (which decides whether a record compacted away meanwhile is a CompactedError).
   */
  fetch(revisions: readonly Revision[], atRev: number): Promise<KeyValue[]>;
}

/** Resolves the revision a read runs at, applying the compacted/future rules. */
export function readRevision(view: ReadView, requested: number | undefined): number {
  const wanted = requested ?? 0;
  if (wanted > view.currentRevision) throw new FutureRevisionError();
  const rev = wanted <= 0 ? view.currentRevision : wanted;
  if (rev < view.compactRevision) throw new CompactedError();
  return rev;
}

export async function executeRange(view: ReadView, request: RangeRequest): Promise<RangeResponse> {
  const plan = await planRange(view, request);
  const kvs = plan.sortedKvs ?? (await view.fetch(plan.revisions, plan.atRev));
  if (plan.keysOnly) blankValues(kvs);
  return { kvs, more: plan.more, count: plan.count, revision: plan.revision };
}

/**
 * A range decided from the index alone: which revisions to return, in order, plus the
 * response's count/more/revision. Reading the values is left to the caller, who may do it a
 * page at a time (see MvccStore.rangePages). Sorting by value needs the values, so that one
 * case arrives already read, in `sortedKvs`.
 */
export interface RangePlan {
  count: number;
  more: boolean;
  revision: number;
  atRev: number;
  keysOnly: boolean;
  revisions: Revision[];
  sortedKvs?: KeyValue[];
}

export async function planRange(view: ReadView, request: RangeRequest): Promise<RangePlan> {
  const atRev = readRevision(view, request.revision);
  const revision = view.currentRevision;
  const keysOnly = request.keysOnly === true;
  const interval = toInterval(request);
  if (interval === undefined) return { count: 0, more: false, revision, atRev, keysOnly, revisions: [] };

  const limit = request.limit !== undefined && request.limit > 0 ? request.limit : Infinity;
  const order = effectiveOrder(request);
  const target = request.sortTarget ?? SortTarget.KEY;
  const filter = versionFilter(request);
  const naturalOrder = order === SortOrder.NONE || (order === SortOrder.ASCEND && target === SortTarget.KEY);
  // Without filters and in key order only the first `limit` + 1 versions are needed.
  const keepAtMost = request.countOnly === true ? 0 : naturalOrder && filter === undefined ? limit + 1 : Infinity;

  const picked: IndexedVersion[] = [];
  let count = 0;
  view.index.visit(interval, atRev, (version) => {
    count++;
    if (picked.length < keepAtMost) picked.push(version);
  });
  if (request.countOnly === true) return { count, more: false, revision, atRev, keysOnly, revisions: [] };

  const matching = filter === undefined ? picked : picked.filter(filter);
  const more = matching.length > limit;
  const spec = { order, target, limit, atRev };
  if (target === SortTarget.VALUE && order !== SortOrder.NONE) {
    const sortedKvs = await sortedByValue(view, matching, spec);
    return { count, more, revision, atRev, keysOnly, revisions: [], sortedKvs };
  }
  return { count, more, revision, atRev, keysOnly, revisions: sortedRevisions(matching, spec) };
}

/** keys_only: etcd returns every field but the value. */
export function blankValues(kvs: KeyValue[]): void {
  for (const kv of kvs) kv.value = EMPTY_VALUE;
}

const EMPTY_VALUE = Buffer.alloc(0);

function effectiveOrder(request: RangeRequest): SortOrder {
  const order = request.sortOrder ?? SortOrder.NONE;
  const target = request.sortTarget ?? SortTarget.KEY;
  return order === SortOrder.NONE && target !== SortTarget.KEY ? SortOrder.ASCEND : order;
}

function versionFilter(request: RangeRequest): ((version: IndexedVersion) => boolean) | undefined {
  const minMod = request.minModRevision ?? 0;
  const maxMod = request.maxModRevision ?? 0;
  const minCreate = request.minCreateRevision ?? 0;
  const maxCreate = request.maxCreateRevision ?? 0;
  if (minMod === 0 && maxMod === 0 && minCreate === 0 && maxCreate === 0) return undefined;
  return (version) =>
    (minMod === 0 || version.revision.main >= minMod) &&
    (maxMod === 0 || version.revision.main <= maxMod) &&
    (minCreate === 0 || version.createRevision >= minCreate) &&
    (maxCreate === 0 || version.createRevision <= maxCreate);
}

interface PageSpec {
  order: SortOrder;
  target: SortTarget;
  limit: number;
  atRev: number;
}

/** Sorts by value (input is in ascending key order), cuts to the limit. Reads every value. */
async function sortedByValue(view: ReadView, versions: IndexedVersion[], spec: PageSpec): Promise<KeyValue[]> {
  const kvs = await view.fetch(
    versions.map((v) => v.revision),
    spec.atRev,
  );
  stableSort(kvs, (a, b) => Buffer.compare(a.value, b.value), spec.order);
  return kvs.slice(0, Math.min(kvs.length, spec.limit));
}

/** Sorts on what the index knows (input is in ascending key order), cuts to the limit. */
function sortedRevisions(versions: IndexedVersion[], spec: PageSpec): Revision[] {
  if (spec.order !== SortOrder.NONE) stableSort(versions, indexComparator(spec.target), spec.order);
  const end = Math.min(versions.length, spec.limit);
  const revisions = new Array<Revision>(end);
  for (let i = 0; i < end; i++) revisions[i] = versions[i]!.revision;
  return revisions;
}

function indexComparator(target: SortTarget): (a: IndexedVersion, b: IndexedVersion) => number {
  switch (target) {
    case SortTarget.KEY:
      return (a, b) => Buffer.compare(a.key, b.key);
    case SortTarget.VERSION:
      return (a, b) => a.version - b.version;
    case SortTarget.CREATE:
      return (a, b) => a.createRevision - b.createRevision;
    case SortTarget.MOD:
      return (a, b) => a.revision.main - b.revision.main;
    default:
      throw new Error(`unknown sort target ${String(target)}`);
  }
}

/**
 * Array.prototype.sort is stable and the input is in ascending key order, so ties keep
 * ascending key order whichever the direction (not reversed with the rest, as etcd does).
 */
function stableSort<T>(items: T[], compare: (a: T, b: T) => number, order: SortOrder): void {
  items.sort(order === SortOrder.DESCEND ? (a, b) => compare(b, a) : compare);
}
