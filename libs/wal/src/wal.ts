// The write-ahead log: create/open, appends with group commit, snapshot markers, release.
//
// Group commit: every call queues a request; one flush at a time takes the whole queue,
// encodes it into one buffer and writes it with one write() call. If any request in it asked
// for durability, that write is an O_DSYNC write (durable when it completes, one thread-pool
// operation; see segment-writer.ts), shared by all of them. Requests that arrive while a
// flush is in progress form the next batch — so under load the batch size grows by itself
// to whatever accumulates during one durable write.
import path from 'node:path';
import { WalFailedError, walAssert } from './errors';
import { DEFAULT_SEGMENT_BYTES, ENTRY_FIXED_BODY_BYTES, RECORD_BODY_BYTES_MAX } from './format';
import { FrameEncoder } from './frame-encoder';
import { nodeFileSystem, type WalFileSystem } from './fs';
import { replay, replayFromIndex } from './replay';
import { listSegments, segmentFileName, segmentPath, TEMP_SUFFIX, type SegmentName } from './segments';
import { SegmentWriter, createSegmentFile, encodeSegmentStart, type DurableVia } from './segment-writer';
import {
  EMPTY_HARD_STATE,
  isEmptyHardState,
  type HardState,
  type SnapshotMarker,
  type WalEntry,
  type WalMetadata,
} from './types';

export interface WalOptions {
  /** Size at which the active segment is cut (and to which new segments are preallocated). */
  segmentBytes?: number;
  /** Bytes of queued, not yet written requests beyond which callers wait (backpressure). */
  queuedBytesMax?: number;
  fs?: WalFileSystem;
  /**
   * Called with the duration of every operation that made WAL data durable — an fdatasync, or
   * an O_DSYNC write, which includes its flush (e.g. for etcd_disk_wal_fsync_duration_seconds).
   */
  onFsync?: (durationSeconds: number) => void;
  /**
   * Durable batches up to this many bytes are written with one O_DSYNC write on the calling
   * thread instead of the thread pool (segment-writer.ts); 0 sends every one to the pool.
   */
  foregroundDurableBytesMax?: number;
}

export interface OpenOptions extends WalOptions {
  /** Read entries after this snapshot; its marker must be in the WAL unless index is 0. */
  fromSnapshot?: SnapshotMarker;
}

export interface OpenResult {
  wal: Wal;
  metadata: WalMetadata;
  hardState: HardState;
  /** Entries after the snapshot, overwrites applied: entries[i].index === fromSnapshot.index + 1 + i. */
  entries: WalEntry[];
  /** Set when open cut off a torn tail of the last segment. */
  repairedTail?: { file: string; offset: number; reason: string };
}

export interface WalCounters {
  /** write() calls issued for batches. */
  writes: number;
  /** Disk flushes for batches and cuts: fdatasync calls plus O_DSYNC writes (each flushes once). */
  syncs: number;
  /** Of `syncs`, the batches made durable by their own O_DSYNC write (no separate fdatasync). */
  dsyncWrites: number;
  /** Requests (save/append/sync/marker calls) completed. */
  requests: number;
  cuts: number;
}

interface Request {
  entries: readonly WalEntry[];
  hardState: HardState | undefined;
  snapshot: SnapshotMarker | undefined;
  durable: boolean;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const DEFAULT_QUEUED_BYTES_MAX = 64 * 1024 * 1024;
const FRAME_OVERHEAD_ESTIMATE_BYTES = 48;

/** `<data-dir>/member/wal`, where a member keeps its WAL. */
export function walDirOf(dataDir: string): string {
  return path.join(dataDir, 'member', 'wal');
}

export class Wal {
  readonly counters: WalCounters = { writes: 0, syncs: 0, dsyncWrites: 0, requests: 0, cuts: 0 };
  private queue: Request[] = [];
  private queuedBytes = 0;
  private flushing = false;
  /** Requests held back (in arrival order) until the queue shrinks below queuedBytesMax. */
  private held: Array<{ request: Request; bytes: number }> = [];
  private failure: unknown = undefined;
  private closed = false;
  private readonly encoder = new FrameEncoder();
  private readonly queuedBytesMax: number;

  private constructor(
    private readonly writer: SegmentWriter,
    /** Last hard state written; new segments start with a copy. */
    private hardState: HardState,
    /** Highest entry or snapshot index written; names the next segment. */
    private lastIndex: number,
    options: WalOptions,
  ) {
    this.queuedBytesMax = options.queuedBytesMax ?? DEFAULT_QUEUED_BYTES_MAX;
  }

  /** Creates a new, empty WAL in `dir`, which must not hold one already. */
  static async create(dir: string, metadata: WalMetadata, options: WalOptions = {}): Promise<Wal> {
    const fs = options.fs ?? nodeFileSystem;
    const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    if (await fs.exists(dir)) {
      if ((await fs.readdir(dir)).length > 0) throw new Error(`wal: ${dir} already exists and is not empty`);
      await fs.removeTree(dir);
    }
    // Build the directory under a temporary name so a crash never leaves a half-made WAL.
    const temp = dir + TEMP_SUFFIX;
    await fs.removeTree(temp);
    await makeParentsDurably(fs, path.dirname(dir));
    await fs.mkdir(temp);
    const first: SegmentName = { seq: 0, startIndex: 0, fileName: segmentFileName(0, 0) };
    const header = encodeSegmentStart(first, 0, metadata, EMPTY_HARD_STATE);
    const file = await createSegmentFile({ fs, segmentBytes }, temp, first.fileName, header);
    await fs.rename(temp, dir);
    await fs.syncDir(path.dirname(dir));
    const writer = await SegmentWriter.start(
      { fs, dir, segmentBytes, metadata, onFsync: options.onFsync, foregroundDurableBytesMax: options.foregroundDurableBytesMax },
      // createSegmentFile synced the header records
      { segments: [first], file, offset: header.length, syncedOffset: header.length, lastCrc: header.lastCrc },
    );
    return new Wal(writer, { ...EMPTY_HARD_STATE }, 0, options);
  }

  /** True when `dir` holds at least one WAL segment. */
  static async exists(dir: string, fs: WalFileSystem = nodeFileSystem): Promise<boolean> {
    return (await fs.exists(dir)) && (await listSegments(fs, dir)).length > 0;
  }

  /**
   * Reads the WAL from `fromSnapshot` on, repairs a torn tail of the last segment and returns
   * the state plus a WAL ready for appending after the last valid record.
   */
  static async open(dir: string, options: OpenOptions = {}): Promise<OpenResult> {
    const fs = options.fs ?? nodeFileSystem;
    const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    await removeInterruptedCuts(fs, dir);
    const segments = await listSegments(fs, dir);
    if (segments.length === 0) throw new Error(`wal: no segments in ${dir}`);
    const state = await replay(fs, dir, segments, options.fromSnapshot ?? { index: 0, term: 0 });
    const { scan, segment, fileBytes } = state.last;
    const file = await fs.open(segmentPath(dir, segment), 'r+');
    try {
      if (scan.tornTail) await file.truncate(scan.validEnd); // re-zeroes whatever the torn write left
      if (scan.tornTail || fileBytes < segmentBytes) await file.truncate(Math.max(scan.validEnd, segmentBytes));
      // Always: what was read may still be only in the page cache (the previous process was
      // killed after a non-durable save()), and durable writes flush only their own range
      // from here on, so the segment writer must start with everything read made durable.
      await file.datasync();
    } catch (err) {
      await file.close();
      throw err;
    }
    const writer = await SegmentWriter.start(
      { fs, dir, segmentBytes, metadata: state.metadata, onFsync: options.onFsync, foregroundDurableBytesMax: options.foregroundDurableBytesMax },
      { segments: [...segments], file, offset: scan.validEnd, syncedOffset: scan.validEnd, lastCrc: state.last.lastCrc },
    );
    const wal = new Wal(writer, state.hardState, state.lastIndex, options);
    const repairedTail = scan.tornTail ? { file: segment.fileName, ...scan.tornTail } : undefined;
    return {
      wal,
      metadata: state.metadata,
      hardState: state.hardState,
      entries: state.entries,
      ...(repairedTail ? { repairedTail } : {}),
    };
  }

  /**
   * Reads the entries from `index` on (entries[i].index === index + i), with the metadata and
   * the last hard state, without opening the WAL for writing: nothing is repaired or removed,
   * so it is safe beside a running member (it sees what was written before the call) and for
   * tools. A torn tail ends the data; corruption throws as in open. Throws
   * WalIndexUnavailableError when entry `index` was released or replaced by an installed
   * snapshot; an index past the end gives no entries.
   */
  static async readFrom(
    dir: string,
    index: number,
    fs: WalFileSystem = nodeFileSystem,
  ): Promise<{ metadata: WalMetadata; hardState: HardState; entries: WalEntry[] }> {
    const segments = await listSegments(fs, dir);
    if (segments.length === 0) throw new Error(`wal: no segments in ${dir}`);
    const { metadata, hardState, entries } = await replayFromIndex(fs, dir, segments, index);
    return { metadata, hardState, entries };
  }

  /** Appends entries (then the hard state, if given and not empty). Resolves once written, NOT synced. */
  save(hardState: HardState | null | undefined, entries: readonly WalEntry[] = []): Promise<void> {
    return this.enqueue(entries, hardState ?? undefined, undefined, false);
  }

  /** As save(), but resolves only once it is on stable storage (one disk flush shared with concurrent callers). */
  append(hardState: HardState | null | undefined, entries: readonly WalEntry[] = []): Promise<void> {
    return this.enqueue(entries, hardState ?? undefined, undefined, true);
  }

  /** Makes everything saved so far durable. */
  sync(): Promise<void> {
    return this.enqueue([], undefined, undefined, true);
  }

  /** Records that a snapshot at marker.index exists; durable when the promise resolves. */
  saveSnapshotMarker(marker: SnapshotMarker): Promise<void> {
    return this.enqueue([], undefined, marker, true);
  }

  /** Deletes segments wholly below `index` (normally the latest snapshot's). Returns their names. */
  async releaseTo(index: number): Promise<string[]> {
    this.checkUsable();
    return this.writer.releaseTo(index);
  }

  /** Names of the segment files, oldest first. */
  segmentFiles(): string[] {
    return this.writer.segmentNames.map((s) => s.fileName);
  }

  /** Syncs what is queued and closes the active segment. Later calls fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true; // from here on new calls fail, so the final sync is the last request
    try {
      if (this.failure === undefined) {
        await new Promise<void>((resolve, reject) =>
          this.submit({ entries: [], hardState: undefined, snapshot: undefined, durable: true, resolve, reject }, 0),
        );
      }
    } finally {
      // After a failure (earlier or in the final sync) the files are closed too.
      await this.writer.close();
    }
  }

  private enqueue(
    entries: readonly WalEntry[],
    hardState: HardState | undefined,
    snapshot: SnapshotMarker | undefined,
    durable: boolean,
  ): Promise<void> {
    try {
      this.checkUsable();
      for (const entry of entries) checkEntry(entry);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<void>((resolve, reject) =>
      this.submit({ entries, hardState, snapshot, durable, resolve, reject }, estimateBytes(entries)),
    );
  }

  /** Queues a request behind any held ones (arrival order is write order). */
  private submit(request: Request, bytes: number): void {
    if (this.held.length > 0 || !this.fitsQueue(bytes)) this.held.push({ request, bytes });
    else this.push(request, bytes);
  }

  /** An empty queue takes any request, so one oversized request cannot wait forever. */
  private fitsQueue(bytes: number): boolean {
    return this.queue.length === 0 || this.queuedBytes + bytes <= this.queuedBytesMax;
  }

  private push(request: Request, bytes: number): void {
    if (this.failure !== undefined) return request.reject(new WalFailedError(this.failure));
    this.queue.push(request);
    this.queuedBytes += bytes;
    if (!this.flushing) void this.flushLoop();
  }

  private async flushLoop(): Promise<void> {
    this.flushing = true;
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      this.queuedBytes = 0;
      this.admitHeld();
      try {
        await this.flushBatch(batch);
        for (const request of batch) request.resolve();
        this.counters.requests += batch.length;
      } catch (err) {
        this.fail(err, batch);
      }
      // Let the callers just resolved run first: a caller that appends again right away then
      // joins the next batch instead of leaving the queued few to pay for an fsync alone.
      await yieldToCallers();
    }
    this.flushing = false;
  }

  /** Moves held requests into the queue, oldest first, as far as the bound allows. */
  private admitHeld(): void {
    while (this.held.length > 0 && this.fitsQueue(this.held[0]!.bytes)) {
      const { request, bytes } = this.held.shift()!;
      this.push(request, bytes);
    }
  }

  private async flushBatch(batch: readonly Request[]): Promise<void> {
    const encoder = this.encoder;
    encoder.reset();
    for (const request of batch) this.encodeRequest(request);
    const durable = batch.some((r) => r.durable);
    // A cut syncs the segment anyway (after trimming it), so the batch before a cut need not.
    const cutFollows = this.writer.needsCutAfter(encoder.length);
    let via: DurableVia = 'none';
    if (encoder.length > 0) {
      via = await this.writer.write(encoder.bytes(), encoder.lastCrc, durable && !cutFollows);
      this.counters.writes++;
    } else if (durable && !cutFollows) {
      via = await this.writer.sync();
    }
    if (via !== 'none') this.counters.syncs++;
    if (via === 'dsync-write') this.counters.dsyncWrites++;
    if (cutFollows) {
      walAssert(this.writer.needsCut(), 'the cut predicted before the write is due');
      await this.writer.cut({ lastIndex: this.lastIndex, hardState: this.hardState });
      this.counters.cuts++;
      this.counters.syncs++;
    }
  }

  private encodeRequest(request: Request): void {
    for (const entry of request.entries) {
      this.encoder.appendEntry(entry);
      this.lastIndex = entry.index;
    }
    if (request.hardState && !isEmptyHardState(request.hardState)) {
      this.encoder.appendHardState(request.hardState);
      this.hardState = { ...request.hardState };
    }
    if (request.snapshot) {
      this.encoder.appendSnapshot(request.snapshot);
      this.lastIndex = Math.max(this.lastIndex, request.snapshot.index);
    }
  }

  /**
   * After a failed write or fsync the file's state is unknown (and a retried fsync can report
   * success for data the kernel already dropped), so the WAL refuses all further work.
   */
  private fail(err: unknown, batch: readonly Request[]): void {
    this.failure = err;
    for (const request of batch) request.reject(err);
    const queued = this.queue;
    this.queue = [];
    for (const request of queued) request.reject(new WalFailedError(err));
    const held = this.held;
    this.held = [];
    for (const { request } of held) request.reject(new WalFailedError(err));
  }

  private checkUsable(): void {
    if (this.failure !== undefined) throw new WalFailedError(this.failure);
    if (this.closed) throw new Error('wal: closed');
  }
}

function yieldToCallers(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function checkEntry(entry: WalEntry): void {
  walAssert(Number.isSafeInteger(entry.index) && entry.index > 0, 'entry index must be a positive integer');
  walAssert(Number.isSafeInteger(entry.term) && entry.term >= 0, 'entry term must be a non-negative integer');
  walAssert(Number.isInteger(entry.type) && entry.type >= 0 && entry.type <= 255, 'entry type must fit a byte');
  if (entry.data.length + ENTRY_FIXED_BODY_BYTES > RECORD_BODY_BYTES_MAX) {
    throw new Error(`wal: entry ${entry.index} of ${entry.data.length} bytes exceeds the record size limit`);
  }
}

function estimateBytes(entries: readonly WalEntry[]): number {
  let bytes = FRAME_OVERHEAD_ESTIMATE_BYTES;
  for (const entry of entries) bytes += entry.data.length + FRAME_OVERHEAD_ESTIMATE_BYTES;
  return bytes;
}

/**
 * Creates `dir` and any missing ancestors, syncing each new directory's parent so the new
 * entries survive a crash (a member whose `member/` directory vanished would restart as if
 * new, forgetting its votes).
 */
async function makeParentsDurably(fs: WalFileSystem, dir: string): Promise<void> {
  const missing: string[] = [];
  for (let at = dir; !(await fs.exists(at)); at = path.dirname(at)) {
    missing.unshift(at);
    if (path.dirname(at) === at) break;
  }
  for (const created of missing) {
    await fs.mkdir(created);
    await fs.syncDir(path.dirname(created));
  }
}

/** A `<name>.tmp` segment is a cut that crashed before its rename; it holds nothing needed. */
async function removeInterruptedCuts(fs: WalFileSystem, dir: string): Promise<void> {
  const leftovers = (await fs.readdir(dir)).filter((name) => name.endsWith('.wal' + TEMP_SUFFIX));
  for (const name of leftovers) await fs.unlink(path.join(dir, name));
  if (leftovers.length > 0) await fs.syncDir(dir);
}
