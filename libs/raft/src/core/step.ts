// Message dispatch: term comparison common to all roles (paper §5.1), then the role's step function.
import { type Message, MessageType, NONE, StateType, newMessage } from '../types';
import { stepCandidate } from './candidate';
import { CampaignType, handleVoteRequest, hup, inLeaderLease, isTransferContext, tickElection } from './election';
import { stepFollower } from './follower';
import { stepLeader } from './leader';
import type { Raft } from './raft';
import { handOffLeadership, isRemovedLeader } from './transfer';

/** Feeds one message (network or local) into the state machine. May throw ProposalDroppedError. */
export function step(r: Raft, m: Message): void {
  if ((m.type === MessageType.ReadIndex || m.type === MessageType.ReadIndexResp) && m.entries.length !== 1) {
    // The request context travels as the single entry's data; anything else is malformed.
    r.logger.warn(`${r.id.toString(16)} dropping ${MessageType[m.type]} with ${m.entries.length} entries`);
    return;
  }
  if (!handleTerm(r, m)) return;
  switch (m.type) {
    case MessageType.Hup:
      hup(r, r.cfg.preVote ? CampaignType.PreElection : CampaignType.Election);
      return;
    case MessageType.Vote:
    case MessageType.PreVote:
      handleVoteRequest(r, m);
      return;
    default:
      stepRole(r, m);
  }
}

function stepRole(r: Raft, m: Message): void {
  switch (r.state) {
    case StateType.Leader:
      stepLeader(r, m);
      return;
    case StateType.Candidate:
    case StateType.PreCandidate:
      stepCandidate(r, m);
      return;
    case StateType.Follower:
      stepFollower(r, m);
      return;
  }
}

/**
 * Reconciles terms. A higher term makes us follow (except for pre-votes, which must not disturb
 * anyone, and vote requests arriving within a leader lease). A lower term is stale: dropped, but
 * answered where that unsticks the sender. Returns whether m should be processed further.
 */
function handleTerm(r: Raft, m: Message): boolean {
  if (m.term === 0) return true; // local message, or a termless Prop/ReadIndex
  if (m.term > r.term) {
    if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
      if (!isTransferContext(m.context) && inLeaderLease(r)) {
        // We heard from a live leader recently: this candidate is probably partitioned or
        // disruptive. Ignore it without changing term (thesis §4.2.3).
        r.logger.info(`${r.id.toString(16)} ignored ${MessageType[m.type]} from ${m.from.toString(16)} at term ${m.term}: lease not expired`);
        return false;
      }
    }
    if (m.type === MessageType.PreVote) {
      // Never change term because of a pre-vote.
    } else if (m.type === MessageType.PreVoteResp && !m.reject) {
      // The term in a granted pre-vote answer is the one we will campaign in once we win.
    } else if (m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap) {
      r.becomeFollower(m.term, m.from);
    } else {
      r.becomeFollower(m.term, NONE);
    }
    return true;
  }
  if (m.term < r.term) {
    if (m.type === MessageType.Heartbeat || m.type === MessageType.App) {
      // §5.1: answer with our term so a stale leader steps down. Silence is not enough: with
      // check-quorum we may ignore its vote requests, and a node that cannot campaign (not a
      // voter in its own configuration) would never force the term forward itself.
      r.send(newMessage({ type: MessageType.AppResp, to: m.from, term: r.term }));
    } else if (m.type === MessageType.PreVote) {
      // Tell a pre-candidate with a stale term about ours, so it catches up instead of retrying forever.
      r.send(newMessage({ type: MessageType.PreVoteResp, to: m.from, term: r.term, reject: true }));
    }
    return false;
  }
  return true;
}

/** Advances logical time by one tick for whatever role r is in. */
export function tick(r: Raft): void {
  if (r.state === StateType.Leader) tickHeartbeat(r);
  else tickElection(r, () => step(r, newMessage({ type: MessageType.Hup, from: r.id })));
}

function tickHeartbeat(r: Raft): void {
  r.heartbeatElapsed++;
  r.electionElapsed++;
  if (r.electionElapsed >= r.electionTimeout) {
    r.electionElapsed = 0;
    if (r.cfg.checkQuorum) step(r, newMessage({ type: MessageType.CheckQuorum, from: r.id }));
    // A transfer that did not finish within an election timeout is abandoned (thesis §3.10); a
    // removed leader instead picks the best successor again.
    if (r.state === StateType.Leader && r.leadTransferee !== NONE) {
      r.abortLeaderTransfer();
      if (isRemovedLeader(r)) handOffLeadership(r);
    }
  }
  if (r.state !== StateType.Leader) return;
  if (r.heartbeatElapsed >= r.heartbeatTimeout) {
    r.heartbeatElapsed = 0;
    step(r, newMessage({ type: MessageType.Beat, from: r.id }));
  }
}
