// Errors the WAL raises. Corruption always names the segment file and the byte offset of
// the frame at fault, so an operator can inspect it (`keelutl wal dump`, `xxd -s`).

export class WalCorruptionError extends Error {
  override readonly name = 'WalCorruptionError';
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`wal: corrupt record in ${file} at byte offset ${offset}: ${reason}`);
  }
}

/** Open was asked to start from a snapshot that the WAL has no marker for. */
export class WalSnapshotNotFoundError extends Error {
  override readonly name = 'WalSnapshotNotFoundError';
  constructor(
    readonly index: number,
    readonly term: number,
  ) {
    super(`wal: snapshot marker (index ${index}, term ${term}) not found`);
  }
}

/** readFrom was asked for entries the WAL does not hold (released, or replaced by an installed snapshot). */
export class WalIndexUnavailableError extends Error {
  override readonly name = 'WalIndexUnavailableError';
  constructor(
    readonly index: number,
    readonly reason: string,
  ) {
    super(`wal: entries from index ${index} are not available: ${reason}`);
  }
}

/** The WAL hit an I/O failure earlier; every later call fails with this (see FORMAT.md, "Failures"). */
export class WalFailedError extends Error {
  override readonly name = 'WalFailedError';
  constructor(override readonly cause: unknown) {
    super(`wal: unusable after an earlier write or sync failure: ${String(cause)}`);
  }
}

export function walAssert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`wal: invariant violated: ${message}`);
}
