// Leadership transfer (thesis §3.10): the leader brings the target up to date, then tells it to
// campaign immediately (TimeoutNow). Proposals are refused meanwhile; the transfer is abandoned
// after an election timeout.
import { type Message, MessageType, NONE, newMessage } from '../types';
import type { Progress } from '../tracker/progress';
import type { Raft } from './raft';
import { bcastAppend, sendAppend } from './replication';

export function handleTransferLeader(r: Raft, m: Message, pr: Progress): void {
  if (pr.isLearner) {
    r.logger.debug(`${r.id.toString(16)} is learner; ignored transferring leadership`);
    return;
  }
  const transferee = m.from;
  const last = r.leadTransferee;
  if (last !== NONE) {
    if (last === transferee) return; // already in progress
    r.abortLeaderTransfer();
  }
  if (transferee === r.id) return; // already leader
  // The transfer must finish within one election timeout.
  r.electionElapsed = 0;
  r.leadTransferee = transferee;
  if (pr.match === r.raftLog.lastIndex()) sendTimeoutNow(r, transferee);
  else sendAppend(r, transferee);
}

export function sendTimeoutNow(r: Raft, to: bigint): void {
  r.send(newMessage({ type: MessageType.TimeoutNow, to, term: r.term }));
}

/** A leader whose own configuration no longer lists it as a voter (removed or demoted). */
export function isRemovedLeader(r: Raft): boolean {
  return !r.inConfig || r.isLearner;
}

/**
 * A removed or demoted leader (thesis §4.2.2) cannot be part of future quorums, but stepping down
 * at once could strand the cluster: the remaining voters may not yet hold (or know committed)
 * the entries that removed it, and nodes that do may now be learners that never campaign. So it
 * stays on as a lame duck (refusing proposals, still replicating) and hands leadership to the
 * most up-to-date voter with TimeoutNow as soon as that voter holds the whole log.
 */
export function handOffLeadership(r: Raft): void {
  const lastIndex = r.raftLog.lastIndex();
  let successor = NONE;
  let successorMatch = -1;
  for (const id of r.trk.voterNodes()) {
    const pr = r.trk.progress.get(id);
    if (id === r.id || pr === undefined || pr.isLearner || !r.trk.config.voters.incoming.has(id)) continue;
    if (pr.match > successorMatch) {
      successor = id;
      successorMatch = pr.match;
    }
  }
  if (successor === NONE) {
    r.becomeFollower(r.term, NONE);
    return;
  }
  // Carry the commit index to everyone before leaving.
  bcastAppend(r);
  if (successorMatch === lastIndex) {
    r.logger.info(`${r.id.toString(16)} left the configuration; handing leadership to ${successor.toString(16)}`);
    sendTimeoutNow(r, successor);
    r.becomeFollower(r.term, NONE);
    return;
  }
  r.logger.info(`${r.id.toString(16)} left the configuration; waiting for ${successor.toString(16)} to catch up before handing off`);
  r.electionElapsed = 0;
  r.leadTransferee = successor;
}

/** Transferee caught up: tell it to campaign; a removed leader then steps down. */
export function completeTransfer(r: Raft, to: bigint): void {
  sendTimeoutNow(r, to);
  if (isRemovedLeader(r)) r.becomeFollower(r.term, NONE);
}
