// Linearizable reads without log writes (thesis §6.4): ReadIndex.
import { type Message, MessageType, NONE, ReadOnlyOption, newMessage } from '../types';
import { VoteResult } from '../quorum/types';
import { jointVoteResult } from '../quorum/joint';
import type { Raft } from './raft';

/** Bound on ReadIndex requests held until the leader commits an entry of its term. */
const MAX_PENDING_READ_INDEX_MESSAGES = 4096;

/**
 * Leader: records the commit index as the read point of request m and arranges confirmation of
 * leadership: Safe queues it for the next heartbeat round (batched with other reads arriving
 * before that round); LeaseBased answers at once.
 */
export function leaderReadIndex(r: Raft, m: Message): void {
  if (r.trk.isSingleton()) {
    sendReadIndexResponse(r, m, r.raftLog.committed);
    return;
  }
  if (!r.committedEntryInCurrentTerm()) {
    // Our commit index may lag the true one until an entry of our term commits (thesis §6.4 step 1).
    if (r.pendingReadIndexMessages.length < MAX_PENDING_READ_INDEX_MESSAGES) r.pendingReadIndexMessages.push(m);
    else r.logger.warn(`${r.id.toString(16)} dropping ReadIndex: too many pending before first commit`);
    return;
  }
  serveReadIndex(r, m);
}

function serveReadIndex(r: Raft, m: Message): void {
  if (r.readOnly.option === ReadOnlyOption.LeaseBased) {
    sendReadIndexResponse(r, m, r.raftLog.committed);
    return;
  }
  if (!r.readOnly.addRequest(r.raftLog.committed, m)) {
    r.logger.warn(`${r.id.toString(16)} dropping ReadIndex: duplicate context or queue full`);
    return;
  }
  r.readOnly.recvAck(r.id, m.entries[0]!.data);
  // One heartbeat round, sent when the next Ready is built, confirms every read queued until then.
  r.readIndexBroadcastPending = true;
}

/** Leader: answers reads that waited for the first commit of this term. */
export function releasePendingReadIndexMessages(r: Raft): void {
  if (r.pendingReadIndexMessages.length === 0 || !r.committedEntryInCurrentTerm()) return;
  const pending = r.pendingReadIndexMessages;
  r.pendingReadIndexMessages = [];
  for (const m of pending) serveReadIndex(r, m);
}

/** Leader: a heartbeat ack carrying a read context; confirms the batch once a quorum acked it. */
export function handleReadIndexAck(r: Raft, m: Message): void {
  if (r.readOnly.option !== ReadOnlyOption.Safe || m.context === undefined || m.context.length === 0) return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (acks === undefined) return;
  if (jointVoteResult(r.trk.config.voters, acks) !== VoteResult.Won) return;
  for (const rs of r.readOnly.advance(m.context)) sendReadIndexResponse(r, rs.req, rs.index);
}

/** Local requests become ReadStates; forwarded ones get a ReadIndexResp. */
export function sendReadIndexResponse(r: Raft, req: Message, index: number): void {
  const ctx = req.entries[0]!.data;
  if (req.from === NONE || req.from === r.id) {
    r.readStates.push({ index, requestCtx: ctx });
    return;
  }
  r.send(newMessage({ type: MessageType.ReadIndexResp, to: req.from, term: r.term, index, entries: req.entries }));
}
