// Raft snapshots for log compaction. The state machine's data already lives in RocksDB (with
// its applied index), so a local snapshot records only the raft position and configuration:
// <data-dir>/member/snap/<term>-<index>.snap holds {index, term, confState} as JSON. Every
// --snapshot-count applied entries the member records one, keeps a tail of entries in memory
// for slow followers, and releases WAL segments wholly below it.
//
// Crash order: WAL snapshot marker first, then the .snap file, then WAL release. A restart
// uses the newest .snap file whose marker the WAL has (an older one if the newest is missing),
// so no step can leave the member without a usable starting point.
import fs from 'node:fs';
import path from 'node:path';
import type { ConfState, MemoryStorage, Snapshot } from '@keel/raft';
import type { Wal } from '@keel/wal';
import type { Logger } from 'pino';

export interface SnapshotRecord {
  index: number;
  term: number;
  confState: ConfState;
}

interface SnapshotJson {
  index: number;
  term: number;
  confState: { voters: string[]; learners: string[]; votersOutgoing: string[]; learnersNext: string[]; autoLeave: boolean };
}

const SNAP_SUFFIX = '.snap';

function fileName(record: { index: number; term: number }): string {
  const hex = (n: number) => n.toString(16).padStart(16, '0');
  return `${hex(record.term)}-${hex(record.index)}${SNAP_SUFFIX}`;
}

function encode(record: SnapshotRecord): string {
  const ids = (list: bigint[]) => list.map((id) => id.toString());
  const json: SnapshotJson = {
    index: record.index,
    term: record.term,
    confState: {
      voters: ids(record.confState.voters),
      learners: ids(record.confState.learners),
      votersOutgoing: ids(record.confState.votersOutgoing),
      learnersNext: ids(record.confState.learnersNext),
      autoLeave: record.confState.autoLeave,
    },
  };
  return JSON.stringify(json);
}

function decode(text: string): SnapshotRecord {
  const json = JSON.parse(text) as SnapshotJson;
  const ids = (list: string[]) => list.map((id) => BigInt(id));
  return {
    index: json.index,
    term: json.term,
    confState: {
      voters: ids(json.confState.voters),
      learners: ids(json.confState.learners),
      votersOutgoing: ids(json.confState.votersOutgoing),
      learnersNext: ids(json.confState.learnersNext),
      autoLeave: json.confState.autoLeave,
    },
  };
}

/** Snapshot records in the directory, newest first. Unreadable files are skipped. */
export function listSnapshots(snapDir: string, onlyFile?: string): SnapshotRecord[] {
  if (!fs.existsSync(snapDir)) return [];
  const names = fs
    .readdirSync(snapDir)
    .filter((n) => (onlyFile === undefined ? n.endsWith(SNAP_SUFFIX) : n === onlyFile))
    .sort()
    .reverse();
  const out: SnapshotRecord[] = [];
  for (const name of names) {
    try {
      out.push(decode(fs.readFileSync(path.join(snapDir, name), 'utf8')));
    } catch {
      // a torn write of the newest file: an older snapshot still serves
    }
  }
  return out.sort((a, b) => b.index - a.index);
}

export function writeSnapshotRecord(file: string, record: SnapshotRecord): void {
  writeDurably(file, encode(record));
}

function writeDurably(file: string, text: string): void {
  const temp = `${file}.tmp`;
  const fd = fs.openSync(temp, 'w');
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, file);
  const dirFd = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
}

export function asRaftSnapshot(record: SnapshotRecord): Snapshot {
  return { data: new Uint8Array(0), metadata: { index: record.index, term: record.term, confState: record.confState } };
}

/**
 * etcd's SnapshotCatchUpEntries: log entries a snapshot leaves in memory below itself, so a
 * follower a little behind catches up from the log; one further behind is sent a snapshot.
 */
export const CATCH_UP_ENTRIES = 5000;

/**
 * How many entries a snapshot keeps in memory for a given --snapshot-count. With etcd's default
 * count both bounds are etcd's 5,000, even when a follower lags further: the log held in memory
 * never exceeds one snapshot interval plus 5,000 entries. (Up to 200,000 were kept for a lagging
 * follower before snapshot transfer existed: one stopped member then held ~220 MB of 1 KiB puts
 * in the leader's memory.) A small count keeps up to 10 intervals for a lagging follower, so a
 * follower restarting during a test with --snapshot-count 100 is not sent a snapshot at once.
 */
export function retentionFor(snapshotCount: number): { catchUpEntries: number; retainEntriesMax: number } {
  return {
    catchUpEntries: Math.min(CATCH_UP_ENTRIES, snapshotCount),
    retainEntriesMax: Math.min(CATCH_UP_ENTRIES, 10 * snapshotCount),
  };
}

export interface SnapshotterDeps {
  snapDir: string;
  storage: MemoryStorage;
  wal: Wal;
  confState(): ConfState;
  snapshotCount: number;
  /** Entries kept in memory below the snapshot for followers that lag a little. */
  catchUpEntries: number;
  /**
   * Leader only: the lowest log index a follower has confirmed. Entries above it are kept (up
   * to `retainEntriesMax` below the snapshot) so that a follower a little further behind than
   * `catchUpEntries` still catches up from the log; one further behind is sent a snapshot
   * (which restarts it to install the snapshot).
   */
  slowestFollowerMatch(): number | undefined;
  retainEntriesMax: number;
  /** .snap files kept. */
  snapshotsMax: number;
  logger: Logger;
  lastSnapshotIndex: number;
  /**
   * Makes every batch the store has committed durable. Apply batches are written without a
   * sync (the raft WAL is the durable record and restart re-applies what the store lost), but
   * only entries after the newest snapshot marker are re-applied: the store must be on disk up
   * to `applied` before the marker says so (etcd commits its backend before snapshotting too).
   */
  syncStore(): void;
}

export class Snapshotter {
  private lastIndex: number;
  private busy = false;

  constructor(private readonly deps: SnapshotterDeps) {
    this.lastIndex = deps.lastSnapshotIndex;
    fs.mkdirSync(deps.snapDir, { recursive: true });
  }

  /** Call after entries up to `applied` are applied (and committed to the store). */
  maybeSnapshot(applied: number): void {
    if (this.busy || applied - this.lastIndex < this.deps.snapshotCount) return;
    this.busy = true;
    void this.snapshot(applied)
      .catch((err: unknown) => this.deps.logger.error({ err, index: applied }, 'snapshot failed'))
      .finally(() => (this.busy = false));
  }

  private async snapshot(applied: number): Promise<void> {
    const { storage, wal, logger } = this.deps;
    // Synchronous part: raft's view of the log changes between two raft calls, never during one.
    const snap = storage.createSnapshot(applied, this.deps.confState(), new Uint8Array(0));
    let compactTo = applied - this.deps.catchUpEntries;
    const slowest = this.deps.slowestFollowerMatch();
    if (slowest !== undefined) compactTo = Math.max(Math.min(compactTo, slowest), applied - this.deps.retainEntriesMax);
    if (compactTo > storage.firstIndex()) storage.compact(compactTo);
    const record: SnapshotRecord = { index: applied, term: snap.metadata.term, confState: snap.metadata.confState };
    this.deps.syncStore();
    await wal.saveSnapshotMarker({ index: record.index, term: record.term });
    writeDurably(path.join(this.deps.snapDir, fileName(record)), encode(record));
    this.lastIndex = applied;
    const released = await wal.releaseTo(Math.max(1, compactTo));
    this.pruneOldFiles();
    logger.info({ index: applied, term: record.term, releasedSegments: released.length }, 'saved snapshot');
  }

  private pruneOldFiles(): void {
    const names = fs.readdirSync(this.deps.snapDir).filter((n) => n.endsWith(SNAP_SUFFIX)).sort();
    for (const name of names.slice(0, Math.max(0, names.length - this.deps.snapshotsMax))) {
      fs.rmSync(path.join(this.deps.snapDir, name), { force: true });
    }
  }
}
