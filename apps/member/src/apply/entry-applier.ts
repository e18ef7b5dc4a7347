// Applies the committed entries of one Ready as one store batch: decode each entry, run normal
// requests through the apply chain and conf changes through membership, commit the batch
// together with the index of the last entry, and answer the waiting requests. A committed entry
// is already on a quorum's disks, so a client never hears of a write that a crash could lose;
// a restart re-applies whatever the store had not written.
//
// Answers normally follow the store write. A leader's small batch (a lone client waits) may ask
// for them first (ReplySending.beforeStoreWrite): a batch of plain entries then answers and puts
// the replies on the wire before its store write, which happens while the replies are on their
// way. Store reads that start in between wait for the write (holdReadsUntilCommit), so nobody
// who heard of a write reads a store without it.
import { EntryType, decodeEntryConfChange, type ConfState, type ConfChangeV2, type Entry, type Snapshot } from '@keel/raft';
import { internal } from '@keel/proto';
import type { EntryApplier, ReplySending } from '../server/ports';
import type { ApplyOutcome } from '../server/proposer';
import type { WaitRegistry } from '../server/wait';
import { applySafely, type RequestApplier } from './appliers';
import type { StatePort, StoreBatch } from './store-port';

export interface ConfChangeHandler {
  /** Applies a committed conf change (membership + raft config); returns the outcome for its waiter. */
  apply(change: ConfChangeV2, batch: StoreBatch): { requestId: bigint; outcome: ApplyOutcome; confState: ConfState };
}

export interface EntryApplierDeps {
  state: StatePort;
  chain: RequestApplier;
  confChanges: ConfChangeHandler;
  waits: WaitRegistry<ApplyOutcome>;
  /** Installs a raft snapshot's application state (multi-member catch-up). */
  installSnapshot?(snapshot: Snapshot): Promise<void>;
  /** After each committed batch (watch notification happens inside the store's commit). */
  afterCommit?(lastIndex: number): void;
}

/** Conf changes keep the strict order: their answers follow the store write. */
const isPlain = (entry: Entry): boolean => entry.type === EntryType.Normal;

export function createEntryApplier(deps: EntryApplierDeps): EntryApplier {
  return {
    async applyEntries(entries: Entry[], replies?: ReplySending): Promise<void> {
      if (entries.length === 0) return;
      const appliedBefore = deps.state.appliedIndex();
      const batch = await deps.state.begin();
      const answers: Array<[bigint, ApplyOutcome]> = [];
      for (const entry of entries) {
        if (entry.type === EntryType.Normal) {
          // Already in the store (replay after restart), or a new leader's empty entry.
          if (entry.index <= appliedBefore || entry.data.length === 0) continue;
          const request = internal.InternalRaftRequest.decode(entry.data);
          if (!request.request) continue;
          const outcome = await applySafely(deps.chain, request.request, { batch, index: entry.index, term: entry.term });
          if (request.header && request.header.id !== 0n) answers.push([request.header.id, outcome]);
        } else {
          const change = decodeEntryConfChange(entry);
          const { requestId, outcome } = deps.confChanges.apply(change, batch);
          if (requestId !== 0n) answers.push([requestId, outcome]);
        }
      }
      const answerFirst = replies?.beforeStoreWrite === true && answers.length > 0 && entries.every(isPlain);
      let sendFailure: { error: unknown } | undefined;
      if (answerFirst) {
        batch.holdReadsUntilCommit();
        for (const [id, outcome] of answers) deps.waits.trigger(id, outcome);
        // Held reads wait for the commit below, so it must happen even if sending fails.
        await replies.send().catch((error: unknown) => (sendFailure = { error }));
      }
      const last = entries[entries.length - 1]!;
      if (last.index > appliedBefore) await batch.commit(last.index, last.term);
      else await batch.commit(appliedBefore, deps.state.appliedTerm());
      deps.afterCommit?.(last.index);
      if (sendFailure) throw sendFailure.error;
      if (answerFirst || answers.length === 0) return;
      for (const [id, outcome] of answers) deps.waits.trigger(id, outcome);
      await replies?.send();
    },
    async applySnapshot(snapshot: Snapshot): Promise<void> {
      if (!deps.installSnapshot) throw new Error('apply: snapshot install is not supported by this member');
      await deps.installSnapshot(snapshot);
    },
  };
}
