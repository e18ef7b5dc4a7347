// Narrow interfaces the raft loop drives. Each is implemented by an adapter over a library
// (libs/raft RawNode, libs/wal, the peer transport, the apply pipeline), so the loop itself can
// be tested with in-memory twins.
import type { ConfChange, ConfState, Entry, HardState, Message, Ready, Snapshot, Status } from '@keel/raft';

/** The subset of RawNode the member uses. */
export interface RaftNodePort {
  tick(): void;
  campaign(): void;
  propose(data: Uint8Array): void;
  proposeConfChange(cc: ConfChange): void;
  step(message: Message): void;
  readIndex(requestCtx: Uint8Array): void;
  hasReady(): boolean;
  ready(): Ready;
  advance(rd: Ready): void;
  applyConfChange(cc: ConfChange): ConfState;
  status(): Status;
  transferLeader(transferee: bigint): void;
  reportUnreachable(id: bigint): void;
  reportSnapshot(id: bigint, failed: boolean): void;
}

/** Durable log: what a Ready asks to persist goes here before it is acknowledged. */
export interface DurableLog {
  /** Appends entries and the hard state; when `sync` is set, returns only after one fsync covering both. */
  save(hardState: HardState | undefined, entries: Entry[], sync: boolean): Promise<void>;
  /** Records that a snapshot at this index/term exists (so replay starts after it). */
  saveSnapshot(snapshot: Snapshot): Promise<void>;
}

/** In-memory view of the log raft reads; updated after the durable log. */
export interface LogMirror {
  append(entries: Entry[]): void;
  setHardState(hardState: HardState): void;
  applySnapshot(snapshot: Snapshot): void;
}

/** Sends raft messages to peers; fire and forget (raft retries on its own). */
export interface MessageSender {
  send(messages: Message[]): void;
}

export interface ReplySending {
  send(): Promise<void>;
  beforeStoreWrite: boolean;
}

/** Applies committed entries in order; the applied index is persisted with their effects. */
export interface EntryApplier {
  /**
   * `replies`, if given, puts the replies of the calls the batch answered on the wire; the
   * applier calls it after answering them. With `beforeStoreWrite`, a batch of plain entries
   * answers (and sends) before its store write, holding store reads that start meanwhile until
   * the write.
   */
  applyEntries(entries: Entry[], replies?: ReplySending): Promise<void>;
  /** Installs a snapshot's application state (replacing the current state). */
  applySnapshot(snapshot: Snapshot): Promise<void>;
}
