/**
 * @keel/wal — a member's write-ahead log (format: ../FORMAT.md).
 *
 *   const dir = walDirOf(dataDir);
 *   // a new member:
 *   const wal = await Wal.create(dir, { memberId, clusterId });
 *   // or, on restart (fromSnapshot: the latest durable snapshot's index and term):
 *   const { wal, metadata, hardState, entries } = await Wal.open(dir, { fromSnapshot });
 *   // read-only, from any index (tools, WAL shipping, serving a lagging follower):
 *   const { entries: tail } = await Wal.readFrom(dir, 1234);
 *   await wal.append(ready.hardState, ready.entries); // durable; concurrent calls share one disk flush
 *   await wal.save(hs, entries); await wal.sync();     // or: write now, sync later
 *   await wal.saveSnapshotMarker({ index, term });     // after the snapshot itself is durable
 *   await wal.releaseTo(snapshotIndex);                 // drop segments the snapshot covers
 *   await wal.close();
 *
 * Corruption is a WalCorruptionError naming the segment file and byte offset; a torn tail is
 * repaired on open and reported in OpenResult.repairedTail.
 */
export { Wal, walDirOf, type OpenOptions, type OpenResult, type WalCounters, type WalOptions } from './wal';
export {
  EMPTY_HARD_STATE,
  EntryKind,
  isEmptyHardState,
  type HardState,
  type SnapshotMarker,
  type WalEntry,
  type WalMetadata,
} from './types';
export { WalCorruptionError, WalFailedError, WalIndexUnavailableError, WalSnapshotNotFoundError } from './errors';
export { nodeFileSystem, type WalFile, type WalFileSystem } from './fs';
export { crc32c } from './crc32c';
export { readSegment, type SegmentContents } from './replay';
export { listSegments, parseSegmentFileName, segmentFileName, type SegmentName } from './segments';
export type { WalRecord, SegmentHeader } from './record-codec';
export { DEFAULT_SEGMENT_BYTES, RecordType } from './format';
