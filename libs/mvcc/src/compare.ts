// Txn compares (as etcd 3.4): a compare over a range holds when it holds for every key
// in the range; over no key at all it is evaluated against an all-zero KeyValue, except
// a VALUE compare, which then fails (a missing value cannot be told from an empty one).
import type { IndexedVersion } from './key-index';
import { toInterval } from './key-range';
import type { ReadView } from './range';
import { type Compare, CompareResult, CompareTarget } from './requests';

export async function compareHolds(view: ReadView, atRev: number, compare: Compare): Promise<boolean> {
  const versions: IndexedVersion[] = [];
  const interval = toInterval(compare);
  if (interval !== undefined) view.index.visit(interval, atRev, (version) => void versions.push(version));
  if (versions.length === 0) {
    if (compare.target === CompareTarget.VALUE) return false;
    return outcome(compare.result, compareNumbers(compare, { version: 0, createRevision: 0, modRevision: 0, lease: 0n }));
  }
  if (compare.target === CompareTarget.VALUE) {
    const kvs = await view.fetch(versions.map((v) => v.revision), atRev);
    const operand = compare.value ?? new Uint8Array(0);
    return kvs.every((kv) => outcome(compare.result, Buffer.compare(kv.value, operand)));
  }
  return versions.every((v) =>
    outcome(
      compare.result,
      compareNumbers(compare, { version: v.version, createRevision: v.createRevision, modRevision: v.revision.main, lease: v.lease }),
    ),
  );
}

interface Counters {
  version: number;
  createRevision: number;
  modRevision: number;
  lease: bigint;
}

/** Sign of (stored - operand) for the non-value targets. */
function compareNumbers(compare: Compare, stored: Counters): number {
  switch (compare.target) {
    case CompareTarget.VERSION:
      return Math.sign(stored.version - (compare.version ?? 0));
    case CompareTarget.CREATE:
      return Math.sign(stored.createRevision - (compare.createRevision ?? 0));
    case CompareTarget.MOD:
      return Math.sign(stored.modRevision - (compare.modRevision ?? 0));
    case CompareTarget.LEASE: {
      const operand = compare.lease ?? 0n;
      return stored.lease === operand ? 0 : stored.lease > operand ? 1 : -1;
    }
    default:
      throw new Error(`unknown compare target ${String(compare.target)}`);
  }
}

function outcome(result: CompareResult, sign: number): boolean {
  switch (result) {
    case CompareResult.EQUAL:
      return sign === 0;
    case CompareResult.NOT_EQUAL:
      return sign !== 0;
    case CompareResult.GREATER:
      return sign > 0;
    case CompareResult.LESS:
      return sign < 0;
    default:
      throw new Error(`unknown compare result ${String(result)}`);
  }
}
