// Replays a reference script (written by gen.go into ../fixtures) on the size model, doing
// what gen.go does to a real bbolt file, and returns the figures after every commit in the
// fixture's run-length page encoding, so a test can compare them with bbolt's.
import { BoltSizeModel, type SizeFigures } from '../bolt-model';
import { PAGE_SIZE } from '../bucket-tree';
import {
  bootstrapEtcdBackend,
  CONSISTENT_INDEX_BYTES,
  EtcdBucket,
  EtcdMetaKey,
  keyValueBytes,
  REVISION_KEY_BYTES,
  revisionKey,
  tombstoneBytes,
} from '../etcd-layout';

export interface ScriptStep {
  op: 'puts' | 'deletes' | 'compact' | 'defrag';
  count?: number;
  keys?: number;
  keyBytes?: number;
  valueBytes?: number;
  perCommit?: number;
  /** Value sizes drawn from 1..randomMax (see SizeDraws) instead of valueBytes. */
  randomMax?: number;
  behind?: number;
}

/** gen.go's Park-Miller generator (seed 1); every product stays below 2^47, exact in doubles. */
class SizeDraws {
  private state = 1;

  next(max: number): number {
    this.state = (this.state * 48271) % 2147483647;
    return (this.state % max) + 1;
  }
}

export interface ReferenceFixture {
  name: string;
  steps: ScriptStep[];
  pageSize: number;
  /** [repeat, size pages, in-use pages] */
  figures: Array<[number, number, number]>;
}

interface UserKey {
  create: number;
  version: number;
  tombstoned: boolean;
}

interface HistoryEntry {
  main: number;
  tombstone: boolean;
  key: string;
}

const COMPACTION_SCAN_BATCH = 1000;

class ScriptRunner {
  model = new BoltSizeModel();
  readonly figures: SizeFigures[] = [];
  private revision = 1;
  private readonly userKeys = new Map<string, UserKey>();
  private history: HistoryEntry[] = [];
  private readonly draws = new SizeDraws();

  run(steps: readonly ScriptStep[]): void {
    bootstrapEtcdBackend(this.model, () => this.figures.push(this.model.figures()));
    for (const step of steps) {
      if (step.op === 'puts' || step.op === 'deletes') this.writes(step, step.op === 'deletes');
      else if (step.op === 'compact') this.compact(step.behind ?? 0);
      else this.defrag();
    }
  }

  private commit(write: () => void): void {
    write();
    if (this.model.commit()) this.figures.push(this.model.figures());
  }

  private writes(step: ScriptStep, tombstone: boolean): void {
    const count = step.count ?? 0;
    const perCommit = step.perCommit ?? 1;
    for (let i = 0; i < count; i++) {
      const valueBytes = step.randomMax !== undefined ? this.draws.next(step.randomMax) : (step.valueBytes ?? 0);
      this.write(userKeyName(i % (step.keys ?? 1), step.keyBytes ?? 1), valueBytes, tombstone);
      if ((i + 1) % perCommit === 0 || i === count - 1) {
        this.commit(() => this.model.put(EtcdBucket.meta, EtcdMetaKey.consistentIndex, CONSISTENT_INDEX_BYTES));
      }
    }
  }

  private write(name: string, valueBytes: number, tombstone: boolean): void {
    const main = ++this.revision;
    let user = this.userKeys.get(name);
    if (user === undefined || user.tombstoned) {
      user = { create: main, version: 0, tombstoned: false };
      this.userKeys.set(name, user);
    }
    let bytes: number;
    if (tombstone) {
      user.tombstoned = true;
      bytes = tombstoneBytes(name.length);
    } else {
      user.version++;
      bytes = keyValueBytes({ keyBytes: name.length, createRevision: user.create, modRevision: main, version: user.version, valueBytes, lease: 0n });
    }
    this.model.put(EtcdBucket.key, revisionKey(main, 0, tombstone), bytes, true);
    this.history.push({ main, tombstone, key: name });
  }

  private compact(behind: number): void {
    const at = this.revision - behind;
    this.commit(() => this.model.put(EtcdBucket.meta, EtcdMetaKey.scheduledCompact, REVISION_KEY_BYTES));
    const newest = new Map<string, number>();
    for (const entry of this.history) if (entry.main <= at) newest.set(entry.key, entry.main);
    const kept: HistoryEntry[] = [];
    let scanned = 0;
    for (const entry of this.history) {
      if (entry.main > at) {
        kept.push(entry);
        continue;
      }
      scanned++;
      if (newest.get(entry.key) === entry.main && !entry.tombstone) kept.push(entry);
      else this.model.delete(EtcdBucket.key, revisionKey(entry.main, 0, entry.tombstone));
      if (scanned % COMPACTION_SCAN_BATCH === 0) this.commit(() => undefined);
    }
    this.commit(() => this.model.put(EtcdBucket.meta, EtcdMetaKey.finishedCompact, REVISION_KEY_BYTES));
    this.history = kept;
  }

  private defrag(): void {
    this.model = this.model.copyCompacted();
    this.figures.push(this.model.figures());
  }
}

/** gen.go's user key: "k" and the index in keyBytes - 1 digits ("k" alone for one byte). */
function userKeyName(index: number, keyBytes: number): string {
  return keyBytes > 1 ? 'k' + String(index).padStart(keyBytes - 1, '0') : 'k';
}

export function replayScript(steps: readonly ScriptStep[]): { figures: SizeFigures[]; model: BoltSizeModel } {
  const runner = new ScriptRunner();
  runner.run(steps);
  return { figures: runner.figures, model: runner.model };
}

/** The same run-length page encoding gen.go writes. */
export function encodeFigures(figures: readonly SizeFigures[]): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  for (const { size, inUse } of figures) {
    const last = out[out.length - 1];
    if (last !== undefined && last[1] === size / PAGE_SIZE && last[2] === inUse / PAGE_SIZE) last[0]++;
    else out.push([1, size / PAGE_SIZE, inUse / PAGE_SIZE]);
  }
  return out;
}
