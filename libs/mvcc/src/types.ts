// Public data types of the revisioned store, and the contract the watchable store
// (src/watch/) codes against. Keep these stable: other parts import them.
//
// Numbers: revisions, versions, counts, raft indexes and terms are JS numbers. They
// must stay <= Number.MAX_SAFE_INTEGER (2^53 - 1); the store asserts this wherever one
// is produced or decoded. At a million writes per second that bound is ~285 years
// away. Lease IDs are 64-bit and always bigint.
//
// Bytes: inputs accept any Uint8Array; outputs are Buffers (a Buffer is a Uint8Array,
// so generated protobuf code accepts them unchanged).

/** One stored version of a key, as etcd's mvccpb.KeyValue. */
export interface KeyValue {
  key: Buffer;
  /** Main revision of the put that created this generation of the key. */
  createRevision: number;
  /** Main revision of the write that produced this version. */
  modRevision: number;
  /** 1 for the first put of a generation, +1 for each later put. */
  version: number;
  value: Buffer;
  /** 0n when the key is not attached to a lease. */
  lease: bigint;
}

/** Numeric values match mvccpb.Event.EventType. */
export enum EventType {
  PUT = 0,
  DELETE = 1,
}

/**
 * A change. For DELETE, kv holds only `key` and `modRevision` (the deleting revision);
 * the other fields are zero/empty, as etcd sends them.
 */
export interface Event {
  type: EventType;
  kv: KeyValue;
  /** Present only where a caller asked for it (readEvents withPrevKv) or looked it up (prevKvOf). */
  prevKv?: KeyValue;
}

/**
 * Called after a write batch is written to RocksDB, with every event of that batch in
 * revision order (main, then sub). `revision` is the store's current revision after
 * the batch. Called synchronously from the committing call; a listener must not throw
 * and must not block (copy what it needs, schedule the rest). Batches that wrote no
 * key-value changes (only meta or raw spaces) do not call listeners.
 */
export type CommittedListener = (events: readonly Event[], revision: number) => void;

/** Called after a compaction is scheduled (index compacted, meta committed), with its revision. */
export type CompactedListener = (compactRevision: number) => void;

/**
 * etcd key/range_end semantics:
 * - rangeEnd absent or empty: the single key `key`;
 * - rangeEnd = [0x00]: every key >= key (key = [0x00] too: every key);
 * - otherwise the half-open interval [key, rangeEnd) (a prefix range is
 *   key = p, rangeEnd = p with its last byte incremented).
 */
export interface KeyRange {
  key: Uint8Array;
  rangeEnd?: Uint8Array;
}

export interface ReadEventsOptions {
  /** Attach prevKv to each event where the previous version is still in history. */
  withPrevKv?: boolean;
}

export interface ReadEventsResult {
  /** Events in revision order. Never splits a main revision across two results. */
  events: Event[];
  /**
   * The first revision not yet covered: pass it as the next `fromRevision`. Equals
   * toRevision + 1 when the whole interval was read.
   */
  nextRevision: number;
}

/** What the watchable store needs from the revisioned store. */
export interface WatchSource {
  /** The revision of the last committed write (0 for an empty store). */
  currentRevision(): number;
  /** The revision of the last scheduled compaction (0 if none). History below it is gone. */
  compactRevision(): number;
  /** Registers a listener; returns a function that unregisters it. */
  onCommitted(listener: CommittedListener): () => void;
  onCompacted(listener: CompactedListener): () => void;
  /**
   * Reads the changes with main revision in [fromRevision, toRevision] to keys in
   * `range`, in revision order, from RocksDB. Stops after the main revision during which
   * the event count reached `limit` (so a result may exceed `limit` by at most one
   * transaction's writes). Throws CompactedError if fromRevision < compactRevision().
   * Reading from compactRevision() itself is allowed, as etcd allows a watch to start
   * there: the puts at that revision survive compaction (a delete at exactly that
   * revision does not — etcd has the same gap). FutureRevisionError if
   * toRevision > currentRevision().
   */
  readEvents(
    fromRevision: number,
    toRevision: number,
    range: KeyRange,
    limit: number,
    options?: ReadEventsOptions,
  ): Promise<ReadEventsResult>;
  /**
   * The version of kv.key just before kv.modRevision (what etcd sends as prev_kv), or
   * undefined if the key did not exist then or that history was compacted away.
   */
  prevKvOf(kv: KeyValue): Promise<KeyValue | undefined>;
}
