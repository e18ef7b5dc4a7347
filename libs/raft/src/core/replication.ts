// Log replication (paper §5.3): the leader's sending side and the follower's receiving side.
import { CompactedError } from '../errors';
import { type Message, MessageType, ProgressState, newMessage } from '../types';
import { payloadsSize } from '../util';
import type { Raft } from './raft';
import { sendSnapshot } from './snapshot';

/**
 * Sends an App (or a snapshot, if the follower's next entry is compacted) to `to` unless its
 * progress is paused. With sendIfEmpty=false, nothing is sent when there are no new entries.
 * Returns whether a message was sent.
 */
export function maybeSendAppend(r: Raft, to: bigint, sendIfEmpty: boolean): boolean {
  const pr = r.trk.progress.get(to);
  if (pr === undefined || pr.isPaused()) return false;
  // Fast path: nothing new to send (common when filling the pipeline window).
  if (!sendIfEmpty && pr.next > r.raftLog.lastIndex()) return false;
  const prevIndex = pr.next - 1;
  const prevTerm = r.raftLog.termOrUndefined(prevIndex);
  if (prevTerm === undefined) return sendSnapshot(r, to, pr);
  let entries;
  try {
    entries = r.raftLog.entries(pr.next, r.cfg.maxSizePerMsg);
  } catch (err) {
    if (err instanceof CompactedError) return sendSnapshot(r, to, pr);
    throw err;
  }
  if (entries.length === 0 && !sendIfEmpty) return false;
  r.send(newMessage({
    type: MessageType.App,
    to,
    term: r.term,
    index: prevIndex,
    logTerm: prevTerm,
    entries,
    commit: r.raftLog.committed,
  }));
  if (entries.length > 0) {
    if (pr.state === ProgressState.Replicate) {
      // Pipelining: assume delivery and keep streaming, bounded by the inflights window.
      const last = entries[entries.length - 1]!.index;
      pr.optimisticUpdate(last);
      pr.inflights.add(last, payloadsSize(entries));
    } else if (pr.state === ProgressState.Probe) {
      pr.probeSent = true;
    }
  }
  return true;
}

export function sendAppend(r: Raft, to: bigint): void {
  maybeSendAppend(r, to, true);
}

/**
 * Sends App to every peer (empty ones too, carrying the commit index). Followers in Replicate
 * state get as many messages as their inflight window admits, so large batches stream at once.
 */
export function bcastAppend(r: Raft): void {
  for (const id of r.trk.ids()) {
    if (id === r.id) continue;
    sendAppend(r, id);
    if (r.trk.progress.get(id)!.state !== ProgressState.Replicate) continue;
    while (maybeSendAppend(r, id, false)) {
      // each iteration sends one App
    }
  }
}

/**
 * Heartbeats carry min(match, committed) so a follower never commits past what it is known
 * to hold. `context` carries a ReadIndex request context to be echoed back.
 */
export function sendHeartbeat(r: Raft, to: bigint, context: Uint8Array | undefined): void {
  const pr = r.trk.progress.get(to);
  const commit = Math.min(pr?.match ?? 0, r.raftLog.committed);
  const m = newMessage({ type: MessageType.Heartbeat, to, term: r.term, commit });
  if (context !== undefined) m.context = context;
  r.send(m);
}

export function bcastHeartbeat(r: Raft): void {
  bcastHeartbeatWithCtx(r, r.readOnly.lastPendingRequestCtx());
  r.readIndexBroadcastPending = false;
}

export function bcastHeartbeatWithCtx(r: Raft, context: Uint8Array | undefined): void {
  r.trk.visit((id) => {
    if (id !== r.id) sendHeartbeat(r, id, context);
  });
}

/** Follower: the AppendEntries consistency check and append (§5.3), with a conflict hint on rejection. */
export function handleAppendEntries(r: Raft, m: Message): void {
  const log = r.raftLog;
  if (m.index < log.committed) {
    // Everything up to committed is already known to match: tell the leader where we are.
    r.send(newMessage({ type: MessageType.AppResp, to: m.from, term: r.term, index: log.committed }));
    return;
  }
  const lastNewIndex = log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNewIndex !== undefined) {
    r.send(newMessage({ type: MessageType.AppResp, to: m.from, term: r.term, index: lastNewIndex }));
    return;
  }
  // Fast backtracking: point the leader at the last index whose term could match m.logTerm,
  // skipping a whole term of our divergent suffix per round trip.
  const hintIndex = Math.min(m.index, log.lastIndex());
  const hint = log.findConflictByTerm(hintIndex, m.logTerm);
  r.send(newMessage({
    type: MessageType.AppResp,
    to: m.from,
    term: r.term,
    index: m.index,
    reject: true,
    rejectHint: hint.index,
    logTerm: hint.term,
  }));
}

export function handleHeartbeat(r: Raft, m: Message): void {
  r.raftLog.commitTo(m.commit);
  const resp = newMessage({ type: MessageType.HeartbeatResp, to: m.from, term: r.term });
  if (m.context !== undefined) resp.context = m.context;
  r.send(resp);
}
