// Snapshots (paper §7): the leader sends one when a follower needs compacted entries; the
// follower replaces its log and configuration with it.
import { confStatesEqual, restoreConfig } from '../confchange/restore';
import { SnapshotTemporarilyUnavailableError, invariant } from '../errors';
import type { Progress } from '../tracker/progress';
import { ProgressTracker } from '../tracker/tracker';
import { type Message, type Snapshot, MessageType, NONE, StateType, isEmptySnapshot, newMessage } from '../types';
import type { Raft } from './raft';
import { switchToConfig } from './conf';

/** Leader: sends the current snapshot to `to` and pauses its progress until it reports back. */
export function sendSnapshot(r: Raft, to: bigint, pr: Progress): boolean {
  if (!pr.recentActive) {
    // Do not spend a snapshot on a peer that may be down; wait until it answers something.
    r.logger.debug(`ignore sending snapshot to ${to.toString(16)} since it is not recently active`);
    return false;
  }
  let snapshot: Snapshot;
  try {
    snapshot = r.raftLog.snapshot();
  } catch (err) {
    if (err instanceof SnapshotTemporarilyUnavailableError) {
      r.logger.debug(`failed to send snapshot to ${to.toString(16)} because snapshot is temporarily unavailable`);
      return false;
    }
    throw err;
  }
  invariant(!isEmptySnapshot(snapshot), 'need non-empty snapshot');
  pr.becomeSnapshot(snapshot.metadata.index);
  r.send(newMessage({ type: MessageType.Snap, to, term: r.term, snapshot }));
  r.logger.info(`${r.id.toString(16)} sent snapshot[index: ${snapshot.metadata.index}] to ${to.toString(16)} [${pr.toString()}]`);
  return true;
}

/** Follower: installs the snapshot if it is newer than our commit, and reports our log end. */
export function handleSnapshot(r: Raft, m: Message): void {
  const snap = m.snapshot;
  if (snap === undefined) return;
  if (restore(r, snap)) {
    r.logger.info(`${r.id.toString(16)} restored snapshot [index: ${snap.metadata.index}, term: ${snap.metadata.term}]`);
    r.send(newMessage({ type: MessageType.AppResp, to: m.from, term: r.term, index: r.raftLog.lastIndex() }));
  } else {
    r.send(newMessage({ type: MessageType.AppResp, to: m.from, term: r.term, index: r.raftLog.committed }));
  }
}

/**
 * Replaces log and configuration with the snapshot. Returns false when the snapshot is stale or
 * merely confirms entries we already hold (then only the commit index moves).
 */
export function restore(r: Raft, snap: Snapshot): boolean {
  const { index, term, confState } = snap.metadata;
  if (index <= r.raftLog.committed) return false;
  if (r.state !== StateType.Follower) {
    // Only followers receive snapshots from a leader of their term; anything else is a bug upstream.
    r.logger.warn(`${r.id.toString(16)} attempted to restore snapshot as ${StateType[r.state]}; stepping down`);
    r.becomeFollower(r.term + 1, NONE);
    return false;
  }
  const members = [...confState.voters, ...confState.learners, ...confState.votersOutgoing];
  if (!members.includes(r.id)) {
    r.logger.warn(`${r.id.toString(16)} attempted to restore snapshot but it is not in the ConfState; ignoring`);
    return false;
  }
  if (r.raftLog.matchTerm(index, term)) {
    // We already have the entries up to the snapshot: just fast-forward commit.
    r.raftLog.commitTo(index);
    return false;
  }
  r.raftLog.restore(snap);
  r.trk = new ProgressTracker(r.cfg.maxInflightMsgs, r.cfg.maxInflightBytes);
  const restored = restoreConfig(r.trk, r.raftLog.lastIndex(), confState);
  const cs = switchToConfig(r, restored.config, restored.progress);
  invariant(confStatesEqual(cs, confState), 'conf state after snapshot restore differs from the snapshot');
  const self = r.trk.progress.get(r.id)!;
  self.maybeUpdate(self.next - 1);
  return true;
}
