// DurableLog over libs/wal: a Ready's entries and hard state go out in one WAL request, synced
// when raft says so. The WAL batches requests from one flush, so this adds no fsyncs of its own.
import type { Entry, HardState, Snapshot } from '@keel/raft';
import type { Wal } from '@keel/wal';
import type { DurableLog } from './ports';

export function walDurableLog(wal: Wal): DurableLog {
  return {
    save(hardState: HardState | undefined, entries: Entry[], sync: boolean): Promise<void> {
      if (!hardState && entries.length === 0) return sync ? wal.sync() : Promise.resolve();
      return sync ? wal.append(hardState, entries) : wal.save(hardState, entries);
    },
    saveSnapshot(snapshot: Snapshot): Promise<void> {
      return wal.saveSnapshotMarker({ index: snapshot.metadata.index, term: snapshot.metadata.term });
    },
  };
}
