// A deliberately naive reference model of the store: a full copy of the key space per
// revision, strings for keys (ASCII only, so string order is byte order). It shares no
// code with the store except the request types and the error classes.
import {
  CompactedError,
  type Compare,
  CompareResult,
  CompareTarget,
  DuplicateKeyError,
  FutureRevisionError,
  KeyNotFoundError,
  LeaseProvidedError,
  type RangeRequest,
  type RequestOp,
  SortOrder,
  SortTarget,
  type TxnRequest,
  ValueProvidedError,
} from '../src';

export interface MKv {
  key: string;
  value: string;
  create: number;
  mod: number;
  version: number;
  lease: bigint;
}

export interface MEvent {
  type: 'PUT' | 'DELETE';
  kv: MKv;
}

type State = Map<string, MKv>;

export interface MRangeResult {
  kvs: MKv[];
  more: boolean;
  count: number;
  revision: number;
}

export type MResponse =
  | { range: MRangeResult }
  | { put: { prevKv?: MKv; revision: number } }
  | { deleteRange: { deleted: number; prevKvs: MKv[]; revision: number } }
  | { txn: MTxnResult };

export interface MTxnResult {
  succeeded: boolean;
  responses: MResponse[];
  revision: number;
}

const str = (bytes: Uint8Array | undefined): string => Buffer.from(bytes ?? new Uint8Array(0)).toString('latin1');

/** The keys of `state` named by key/rangeEnd, sorted. */
function selectKeys(state: State, key: string, rangeEnd: string): string[] {
  const keys = [...state.keys()].sort();
  if (rangeEnd === '') return keys.filter((k) => k === key);
  if (rangeEnd === '\0') return keys.filter((k) => k >= key);
  return keys.filter((k) => k >= key && k < rangeEnd);
}

export class Model {
  revision = 1; // an empty store is at revision 1, as in etcd
  compacted = 0;
  readonly events: MEvent[] = [];
  /** states[r] = the key space after revision r. */
  private readonly states: State[] = [new Map(), new Map()]; // revisions 0 and 1: empty

  stateAt(revision: number): State {
    return this.states[revision]!;
  }

  range(request: RangeRequest, working?: { state: State; revision: number }): MRangeResult {
    const current = working?.revision ?? this.revision;
    const wanted = request.revision ?? 0;
    if (wanted > current) throw new FutureRevisionError();
    if (wanted > 0 && wanted < this.compacted) throw new CompactedError();
    const state = wanted > 0 ? this.stateAt(wanted) : (working?.state ?? this.stateAt(current));
    const all = selectKeys(state, str(request.key), str(request.rangeEnd)).map((k) => ({ ...state.get(k)! }));
    const count = all.length;
    if (request.countOnly === true) return { kvs: [], more: false, count, revision: current };
    let kvs = all.filter(
      (kv) =>
        (!request.minModRevision || kv.mod >= request.minModRevision) &&
        (!request.maxModRevision || kv.mod <= request.maxModRevision) &&
        (!request.minCreateRevision || kv.create >= request.minCreateRevision) &&
        (!request.maxCreateRevision || kv.create <= request.maxCreateRevision),
    );
    const target = request.sortTarget ?? SortTarget.KEY;
    let order = request.sortOrder ?? SortOrder.NONE;
    if (order === SortOrder.NONE && target !== SortTarget.KEY) order = SortOrder.ASCEND;
    if (order !== SortOrder.NONE) {
      const direction = order === SortOrder.DESCEND ? -1 : 1;
      const field = (kv: MKv): number | string =>
        target === SortTarget.KEY ? kv.key : target === SortTarget.VERSION ? kv.version : target === SortTarget.CREATE ? kv.create : target === SortTarget.MOD ? kv.mod : kv.value;
      kvs.sort((x, y) => {
        const fx = field(x);
        const fy = field(y);
        if (fx !== fy) return (fx < fy ? -1 : 1) * direction;
        return x.key < y.key ? -1 : x.key > y.key ? 1 : 0; // ties: ascending key, either direction
      });
    }
    const limit = request.limit ?? 0;
    const more = limit > 0 && kvs.length > limit;
    if (limit > 0) kvs = kvs.slice(0, limit);
    if (request.keysOnly === true) kvs = kvs.map((kv) => ({ ...kv, value: '' }));
    return { kvs, more, count, revision: current };
  }

  compact(revision: number): void {
    if (revision <= this.compacted) throw new CompactedError();
    if (revision > this.revision) throw new FutureRevisionError();
    this.compacted = revision;
  }

  /** A txn, or a single put/delete (as a one-op txn without compares). */
  txn(request: TxnRequest): MTxnResult {
    checkDuplicates(request);
    const before = this.stateAt(this.revision);
    const main = this.revision + 1;
    const work = { state: new Map(before), revision: this.revision, events: [] as MEvent[] };
    const result = this.runTxn(request, before, work, main);
    if (work.events.length > 0) {
      this.revision = main;
      this.states.push(work.state);
      this.events.push(...work.events);
    }
    fill(result, this.revision);
    return result;
  }

  private runTxn(request: TxnRequest, before: State, work: Work, main: number): MTxnResult {
    const succeeded = (request.compare ?? []).every((c) => compareHolds(before, c));
    const ops = (succeeded ? request.success : request.failure) ?? [];
    this.precheck(ops, before, work);
    const responses: MResponse[] = [];
    for (const op of ops) responses.push(this.runOp(op, before, work, main));
    return { succeeded, responses, revision: 0 };
  }

  private precheck(ops: readonly RequestOp[], before: State, work: Work): void {
    for (const op of ops) {
      if ('put' in op) {
        const { ignoreValue, ignoreLease } = op.put;
        if ((ignoreValue || ignoreLease) && !before.has(str(op.put.key))) throw new KeyNotFoundError();
      } else if ('range' in op) {
        const wanted = op.range.revision ?? 0;
        if (wanted > work.revision) throw new FutureRevisionError();
        if (wanted > 0 && wanted < this.compacted) throw new CompactedError();
      } else if ('txn' in op) {
        const nested = op.txn;
        const ok = (nested.compare ?? []).every((c) => compareHolds(before, c));
        this.precheck((ok ? nested.success : nested.failure) ?? [], before, work);
      }
    }
  }

  private runOp(op: RequestOp, before: State, work: Work, main: number): MResponse {
    const readRevision = (): number => (work.events.length > 0 ? main : main - 1);
    if ('range' in op) {
      return { range: this.range(op.range, { state: work.state, revision: readRevision() }) };
    }
    if ('put' in op) {
      const key = str(op.put.key);
      const previous = work.state.get(key);
      // Passed the precheck but deleted earlier in this txn (only a "\0" delete can: other
      // overlaps are duplicates). etcd 3.4 panics in its apply loop here; Keel refuses the txn.
      if ((op.put.ignoreValue || op.put.ignoreLease) && previous === undefined) throw new KeyNotFoundError();
      const kv: MKv = {
        key,
        value: op.put.ignoreValue ? previous!.value : str(op.put.value),
        create: previous?.create ?? main,
        mod: main,
        version: (previous?.version ?? 0) + 1,
        lease: op.put.ignoreLease ? previous!.lease : (op.put.lease ?? 0n),
      };
      work.state.set(key, kv);
      work.events.push({ type: 'PUT', kv });
      return { put: { prevKv: op.put.prevKv && previous ? { ...previous } : undefined, revision: main } };
    }
    if ('deleteRange' in op) {
      const keys = selectKeys(work.state, str(op.deleteRange.key), str(op.deleteRange.rangeEnd));
      const prevKvs = op.deleteRange.prevKv ? keys.map((k) => ({ ...work.state.get(k)! })) : [];
      for (const key of keys) {
        work.state.delete(key);
        work.events.push({ type: 'DELETE', kv: { key, value: '', create: 0, mod: main, version: 0, lease: 0n } });
      }
      return { deleteRange: { deleted: keys.length, prevKvs, revision: readRevision() } };
    }
    return { txn: this.runTxn(op.txn, before, work, main) };
  }
}

interface Work {
  state: State;
  revision: number;
  events: MEvent[];
}

function fill(result: MTxnResult, revision: number): void {
  result.revision = revision;
  for (const op of result.responses) if ('txn' in op) fill(op.txn, revision);
}

function compareHolds(state: State, compare: Compare): boolean {
  const kvs = selectKeys(state, str(compare.key), str(compare.rangeEnd)).map((k) => state.get(k)!);
  if (kvs.length === 0) {
    if (compare.target === CompareTarget.VALUE) return false;
    kvs.push({ key: '', value: '', create: 0, mod: 0, version: 0, lease: 0n });
  }
  return kvs.every((kv) => {
    let sign: number;
    switch (compare.target) {
      case CompareTarget.VALUE:
        sign = Buffer.compare(Buffer.from(kv.value, 'latin1'), Buffer.from(compare.value ?? new Uint8Array(0)));
        break;
      case CompareTarget.VERSION:
        sign = Math.sign(kv.version - (compare.version ?? 0));
        break;
      case CompareTarget.CREATE:
        sign = Math.sign(kv.create - (compare.createRevision ?? 0));
        break;
      case CompareTarget.MOD:
        sign = Math.sign(kv.mod - (compare.modRevision ?? 0));
        break;
      default:
        sign = kv.lease === (compare.lease ?? 0n) ? 0 : kv.lease > (compare.lease ?? 0n) ? 1 : -1;
    }
    if (compare.result === CompareResult.EQUAL) return sign === 0;
    if (compare.result === CompareResult.NOT_EQUAL) return sign !== 0;
    if (compare.result === CompareResult.GREATER) return sign > 0;
    return sign < 0;
  });
}

/** Flattened writes of one way through the txn (each nested txn takes one branch). */
interface PathWrites {
  puts: string[];
  deletes: Array<[string, string]>;
}

/**
 * Brute force: refuse when any way through the txn puts a key twice or puts a key a
 * delete of that way covers. (The generator never puts deletes in nested txns, where
 * etcd's rule is narrower than this.) Also the request-level put checks.
 */
export function checkDuplicates(request: TxnRequest): void {
  checkShapes(request);
  for (const ops of [request.success ?? [], request.failure ?? []]) {
    for (const path of paths(ops)) {
      const seen = new Set<string>();
      for (const key of path.puts) {
        if (seen.has(key)) throw new DuplicateKeyError();
        seen.add(key);
        if (path.deletes.some(([start, end]) => covers(start, end, key))) throw new DuplicateKeyError();
      }
    }
  }
}

function checkShapes(request: TxnRequest): void {
  for (const op of [...(request.success ?? []), ...(request.failure ?? [])]) {
    if ('put' in op) checkPutShape(op);
    if ('txn' in op) checkShapes(op.txn);
  }
}

function checkPutShape(op: { put: { ignoreValue?: boolean; value?: Uint8Array; ignoreLease?: boolean; lease?: bigint } }): void {
  if (op.put.ignoreValue && (op.put.value?.length ?? 0) > 0) throw new ValueProvidedError();
  if (op.put.ignoreLease && (op.put.lease ?? 0n) !== 0n) throw new LeaseProvidedError();
}

function covers(start: string, end: string, key: string): boolean {
  if (end === '') return key === start;
  if (end === '\0') return false; // etcd checks [start, "\0") literally: it holds no key
  return key >= start && key < end;
}

function paths(ops: readonly RequestOp[]): PathWrites[] {
  let result: PathWrites[] = [{ puts: [], deletes: [] }];
  for (const op of ops) {
    if ('put' in op) result = result.map((p) => ({ ...p, puts: [...p.puts, str(op.put.key)] }));
    else if ('deleteRange' in op) {
      const interval: [string, string] = [str(op.deleteRange.key), str(op.deleteRange.rangeEnd)];
      result = result.map((p) => ({ ...p, deletes: [...p.deletes, interval] }));
    } else if ('txn' in op) {
      const options = [...paths(op.txn.success ?? []), ...paths(op.txn.failure ?? [])];
      result = result.flatMap((p) => options.map((o) => ({ puts: [...p.puts, ...o.puts], deletes: [...p.deletes, ...o.deletes] })));
    }
  }
  return result;
}
