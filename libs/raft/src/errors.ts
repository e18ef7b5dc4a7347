// Errors raised by the library. Class names are part of the public API: callers use
// `instanceof` to tell them apart.

/** A proposal was not accepted (no leader, forwarding disabled, transfer in flight, size cap...). */
export class ProposalDroppedError extends Error {
  constructor() {
    super('raft proposal dropped');
    this.name = 'ProposalDroppedError';
  }
}

/** step() was given a local-only message type (Hup, Beat, ...). */
export class StepLocalMsgError extends Error {
  constructor() {
    super('raft: cannot step raft local message');
    this.name = 'StepLocalMsgError';
  }
}

/** step() was given a response from a node that is not in the configuration. */
export class StepPeerNotFoundError extends Error {
  constructor() {
    super('raft: cannot step as peer not found');
    this.name = 'StepPeerNotFoundError';
  }
}

/** Storage: the requested index precedes the first available index (it was compacted). */
export class CompactedError extends Error {
  constructor() {
    super('requested index is unavailable due to compaction');
    this.name = 'CompactedError';
  }
}

/** Storage: the requested index is past the last available index. */
export class UnavailableError extends Error {
  constructor() {
    super('requested entry at index is unavailable');
    this.name = 'UnavailableError';
  }
}

/** Storage: a snapshot is being produced; raft retries later. */
export class SnapshotTemporarilyUnavailableError extends Error {
  constructor() {
    super('snapshot is temporarily unavailable');
    this.name = 'SnapshotTemporarilyUnavailableError';
  }
}

/** Storage.applySnapshot: the snapshot is older than the one already held. */
export class SnapOutOfDateError extends Error {
  constructor() {
    super('requested index is older than the existing snapshot');
    this.name = 'SnapOutOfDateError';
  }
}

/** A broken invariant: the state machine or its storage is corrupt. Never caught by the library. */
export class RaftInvariantError extends Error {
  constructor(message: string) {
    super(`raft invariant violated: ${message}`);
    this.name = 'RaftInvariantError';
  }
}

/** Throws RaftInvariantError unless `condition` holds. Stays on in production. */
export function invariant(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new RaftInvariantError(typeof message === 'string' ? message : message());
  }
}
