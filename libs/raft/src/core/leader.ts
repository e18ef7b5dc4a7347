import { decodeEntryConfChange, leaveJoint } from '../confchange-codec';
import { ProposalDroppedError } from '../errors';
import { isJoint } from '../quorum/joint';
import type { Progress } from '../tracker/progress';
import { type Entry, type Message, EntryType, MessageType, NONE, ProgressState } from '../types';
import type { Raft } from './raft';
import { handleReadIndexAck, leaderReadIndex, releasePendingReadIndexMessages } from './read-index';
import { bcastAppend, bcastHeartbeat, maybeSendAppend, sendAppend } from './replication';
import { completeTransfer, handleTransferLeader, isRemovedLeader } from './transfer';

export function stepLeader(r: Raft, m: Message): void {
  // Messages that do not need a peer's progress.
  switch (m.type) {
    case MessageType.Beat:
      bcastHeartbeat(r);
      return;
    case MessageType.CheckQuorum:
      checkQuorum(r);
      return;
    case MessageType.Prop:
      propose(r, m);
      return;
    case MessageType.ReadIndex:
      leaderReadIndex(r, m);
      return;
    default:
      break;
  }
  const pr = r.trk.progress.get(m.from);
  if (pr === undefined) {
    r.logger.debug(`${r.id.toString(16)} no progress available for ${m.from.toString(16)}`);
    return;
  }
  switch (m.type) {
    case MessageType.AppResp:
      handleAppendResponse(r, m, pr);
      return;
    case MessageType.HeartbeatResp:
      handleHeartbeatResponse(r, m, pr);
      return;
    case MessageType.SnapStatus:
      handleSnapStatus(r, m, pr);
      return;
    case MessageType.Unreachable:
      // Optimistic streaming to an unreachable peer would just lose messages: probe instead.
      if (pr.state === ProgressState.Replicate) pr.becomeProbe();
      return;
    case MessageType.TransferLeader:
      handleTransferLeader(r, m, pr);
      return;
    default:
      return;
  }
}

/** Check-quorum (thesis §6.2): step down if a quorum was not heard from in the last election timeout. */
function checkQuorum(r: Raft): void {
  if (!r.trk.quorumActive() && !isRemovedLeader(r)) {
    r.logger.warn(`${r.id.toString(16)} stepped down to follower since quorum is not active`);
    r.becomeFollower(r.term, NONE);
    return;
  }
  for (const [id, pr] of r.trk.progress) pr.recentActive = id === r.id;
}

function propose(r: Raft, m: Message): void {
  if (m.entries.length === 0) {
    // Malformed (a local empty proposal is prevented by RawNode); never let a peer crash us.
    r.logger.warn(`${r.id.toString(16)} dropping empty proposal from ${m.from.toString(16)}`);
    throw new ProposalDroppedError();
  }
  if (isRemovedLeader(r)) {
    // Removed or demoted while leader: only hands off now (thesis §4.2.2).
    throw new ProposalDroppedError();
  }
  if (r.leadTransferee !== NONE) {
    r.logger.debug(`${r.id.toString(16)} transfer leadership to ${r.leadTransferee.toString(16)} is in progress; dropping proposal`);
    throw new ProposalDroppedError();
  }
  // appendEntry stamps term and index into the entries: never into a message we do not own
  // (a forwarded proposal may be delivered twice, or shared with its sender in a simulation).
  const entries = m.from === r.id ? m.entries : m.entries.map((e) => ({ ...e }));
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.type === EntryType.ConfChange || e.type === EntryType.ConfChangeV2) vetConfChange(r, entries, i);
  }
  const committedBefore = r.raftLog.committed;
  if (!r.appendEntry(entries)) throw new ProposalDroppedError();
  if (r.raftLog.committed > committedBefore) releasePendingReadIndexMessages(r);
  bcastAppend(r);
}

/**
 * Only one conf change may be pending (thesis §4.1), and joint configs are left before another
 * change. A refused change is replaced by an empty normal entry, keeping the batch's indexes.
 */
function vetConfChange(r: Raft, entries: Entry[], i: number): void {
  const e = entries[i]!;
  const cc = decodeEntryConfChange(e);
  const alreadyPending = r.pendingConfIndex > r.raftLog.applied;
  const alreadyJoint = isJoint(r.trk.config.voters);
  const wantsLeaveJoint = leaveJoint(cc);
  let refused = '';
  if (alreadyPending) refused = `possible unapplied conf change at index ${r.pendingConfIndex} (applied to ${r.raftLog.applied})`;
  else if (alreadyJoint && !wantsLeaveJoint) refused = 'must transition out of joint config first';
  else if (!alreadyJoint && wantsLeaveJoint) refused = 'not in joint state; refusing empty conf change';
  if (refused !== '') {
    r.logger.info(`${r.id.toString(16)} ignoring conf change: ${refused}`);
    entries[i] = { term: 0, index: 0, type: EntryType.Normal, data: new Uint8Array(0) };
  } else {
    r.pendingConfIndex = r.raftLog.lastIndex() + i + 1;
  }
}

function handleAppendResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  if (m.reject) {
    handleAppendRejection(r, m, pr);
    return;
  }
  const wasPaused = pr.isPaused();
  if (!pr.maybeUpdate(m.index)) return;
  switch (pr.state) {
    case ProgressState.Probe:
      pr.becomeReplicate();
      break;
    case ProgressState.Snapshot:
      // The follower caught up past our log's start (via the snapshot or otherwise): stream again.
      if (pr.match + 1 >= r.raftLog.firstIndex()) {
        pr.becomeProbe();
        pr.becomeReplicate();
      }
      break;
    case ProgressState.Replicate:
      pr.inflights.freeLE(m.index);
      break;
  }
  if (r.maybeCommit()) {
    releasePendingReadIndexMessages(r);
    bcastAppend(r);
  } else if (wasPaused) {
    sendAppend(r, m.from);
  }
  // Fill the window: keep sending while entries are available and inflights allow.
  while (maybeSendAppend(r, m.from, false)) {
    // each iteration sends one App
  }
  if (m.from === r.leadTransferee && pr.match === r.raftLog.lastIndex()) {
    r.logger.info(`${r.id.toString(16)} sent TimeoutNow to ${m.from.toString(16)} after its log caught up`);
    completeTransfer(r, m.from);
  }
}

/**
 * The follower's log did not match at m.index. Its hint (rejectHint, logTerm) names the last
 * index it may share with us; we skip back to the last index of ours whose term is <= logTerm.
 */
function handleAppendRejection(r: Raft, m: Message, pr: Progress): void {
  let nextProbeIndex = m.rejectHint;
  if (m.logTerm > 0) nextProbeIndex = r.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index;
  if (!pr.maybeDecrTo(m.index, nextProbeIndex)) return; // stale rejection
  if (pr.state === ProgressState.Replicate) pr.becomeProbe();
  sendAppend(r, m.from);
}

function handleHeartbeatResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  pr.probeSent = false;
  // A full window may be stuck on lost messages; free one slot so that progress resumes.
  if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirstOne();
  if (pr.match < r.raftLog.lastIndex()) sendAppend(r, m.from);
  handleReadIndexAck(r, m);
}

function handleSnapStatus(r: Raft, m: Message, pr: Progress): void {
  if (pr.state !== ProgressState.Snapshot) return;
  if (m.reject) {
    // Failed: forget the snapshot so the next probe can trigger a fresh one.
    pr.pendingSnapshot = 0;
  }
  pr.becomeProbe();
  // Wait for a heartbeat response (or the AppResp after installing) before probing again.
  pr.probeSent = true;
}
