import { ProgressState } from '../types';
import { Inflights } from './inflights';

/**
 * The leader's view of one follower's log.
 * Invariant: match < next. In Snapshot state, pendingSnapshot > 0.
 *
 * Probe: at most one App per heartbeat interval until the follower's position is found.
 * Replicate: entries are streamed optimistically (next jumps ahead), bounded by inflights.
 * Snapshot: the follower needs a snapshot; nothing is sent until it reports back.
 */
export class Progress {
  match: number;
  next: number;
  state: ProgressState = ProgressState.Probe;
  /** In Snapshot state: index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from this peer since the last check-quorum round. */
  recentActive = false;
  /** In Probe state: an App was sent and we wait for a reply (or the next heartbeat). */
  probeSent = false;
  isLearner: boolean;
  readonly inflights: Inflights;

  constructor(options: { match: number; next: number; maxInflight: number; maxInflightBytes: number; isLearner: boolean }) {
    this.match = options.match;
    this.next = options.next;
    this.isLearner = options.isLearner;
    this.inflights = new Inflights(options.maxInflight, options.maxInflightBytes);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === ProgressState.Snapshot) {
      // After a snapshot, resume probing right after it (or after match if that is later).
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
  }

  /** Records an acknowledgement of index n. Returns false if it is stale (already known). */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    if (this.next < n + 1) this.next = n + 1;
    return updated;
  }

  /** Replicate state: assume entries up to n will arrive. */
  optimisticUpdate(n: number): void {
    this.next = n + 1;
  }

  /**
   * Handles a rejected App for index `rejected`; `matchHint` is the follower's best guess of
   * where the logs agree. Returns false if the rejection is stale and was ignored.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      // Stale if the rejected index is below what we know matches.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // Probe: only the rejection of the last probe (index next-1) counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), 1);
    this.probeSent = false;
    return true;
  }

  /** Whether sending App to this peer is throttled right now. */
  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.probeSent;
      case ProgressState.Replicate:
        return this.inflights.full();
      case ProgressState.Snapshot:
        return true;
    }
  }

  clone(): Progress {
    const copy = Object.create(Progress.prototype) as Progress;
    Object.assign(copy, this);
    (copy as { inflights: Inflights }).inflights = this.inflights.clone();
    return copy;
  }

  toString(): string {
    const extra = this.state === ProgressState.Snapshot ? ` pendingSnap=${this.pendingSnapshot}` : '';
    return `${ProgressState[this.state]} match=${this.match} next=${this.next}${this.isLearner ? ' learner' : ''}${extra}`;
  }
}
