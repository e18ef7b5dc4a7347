// Leader election (paper §5.2, §5.4.1; pre-vote and leader lease: thesis §9.6).
import { VoteResult } from '../quorum/types';
import { type Message, EntryType, MessageType, StateType, newMessage } from '../types';
import { voteRespMsgType } from '../util';
import type { Raft } from './raft';

export enum CampaignType {
  /** Pre-vote round: ask whether we could win, without disturbing anyone's term. */
  PreElection = 'CampaignPreElection',
  Election = 'CampaignElection',
  /** Leader transfer: bypasses leader leases of the voters. */
  Transfer = 'CampaignTransfer',
}

/** Context of a vote request sent because of a leader transfer. */
export const CAMPAIGN_TRANSFER_CTX = new TextEncoder().encode(CampaignType.Transfer);

export function isTransferContext(ctx: Uint8Array | undefined): boolean {
  if (ctx === undefined || ctx.length !== CAMPAIGN_TRANSFER_CTX.length) return false;
  for (let i = 0; i < ctx.length; i++) if (ctx[i] !== CAMPAIGN_TRANSFER_CTX[i]) return false;
  return true;
}

/** Starts an election if allowed: not already leader, a voter, and no unapplied conf change. */
export function hup(r: Raft, type: CampaignType): void {
  if (r.state === StateType.Leader) {
    r.logger.debug(`${r.id.toString(16)} ignoring Hup because already leader`);
    return;
  }
  if (!r.promotable()) {
    r.logger.warn(`${r.id.toString(16)} is unpromotable and can not campaign`);
    return;
  }
  if (hasUnappliedConfChange(r)) {
    // Campaigning now could let us lead with a configuration we have not applied yet.
    r.logger.warn(`${r.id.toString(16)} cannot campaign at term ${r.term}: pending configuration changes to apply`);
    return;
  }
  r.logger.info(`${r.id.toString(16)} is starting a new election at term ${r.term}`);
  campaign(r, type);
}

/**
 * TimeoutNow often arrives together with the commit of the conf change that prompted it (a
 * removed leader handing off). Rather than dropping the transfer, campaign once applied.
 */
export function campaignOnTimeoutNow(r: Raft): void {
  if (hasUnappliedConfChange(r)) {
    r.transferCampaignPending = true;
    return;
  }
  hup(r, CampaignType.Transfer);
}

/** Called after the application reports progress in applying. */
export function maybeCampaignAfterApply(r: Raft): void {
  if (!r.transferCampaignPending || hasUnappliedConfChange(r)) return;
  r.transferCampaignPending = false;
  if (r.state === StateType.Follower) hup(r, CampaignType.Transfer);
}

function hasUnappliedConfChange(r: Raft): boolean {
  const log = r.raftLog;
  if (log.committed <= log.applied) return false;
  const ents = log.slice(log.applied + 1, log.committed + 1, Number.MAX_SAFE_INTEGER);
  return ents.some((e) => e.type === EntryType.ConfChange || e.type === EntryType.ConfChangeV2);
}

export function campaign(r: Raft, type: CampaignType): void {
  if (!r.promotable()) return;
  let voteMsg: MessageType;
  let term: number;
  if (type === CampaignType.PreElection) {
    r.becomePreCandidate();
    voteMsg = MessageType.PreVote;
    term = r.term + 1; // the term we would campaign in; our own term is unchanged
  } else {
    r.becomeCandidate();
    voteMsg = MessageType.Vote;
    term = r.term;
  }
  if (poll(r, r.id, voteRespMsgType(voteMsg), true) === VoteResult.Won) {
    // Single-voter cluster: our own vote is a quorum.
    if (type === CampaignType.PreElection) campaign(r, CampaignType.Election);
    else r.becomeLeader();
    return;
  }
  const lastIndex = r.raftLog.lastIndex();
  const lastTerm = r.raftLog.lastTerm();
  for (const id of r.trk.voterNodes()) {
    if (id === r.id) continue;
    const m = newMessage({ type: voteMsg, to: id, term, index: lastIndex, logTerm: lastTerm });
    if (type === CampaignType.Transfer) m.context = CAMPAIGN_TRANSFER_CTX;
    r.send(m);
  }
}

/** Records a vote and returns the election outcome so far. */
export function poll(r: Raft, id: bigint, type: MessageType, granted: boolean): VoteResult {
  r.logger.debug(`${r.id.toString(16)} received ${MessageType[type]} ${granted ? '' : 'rejection '}from ${id.toString(16)} at term ${r.term}`);
  r.trk.recordVote(id, granted);
  return r.trk.tallyVotes().result;
}

/**
 * Any role: answers a (pre-)vote request whose term is not stale. Grants if we have not voted
 * for someone else in this term (or it is a pre-vote for a later term) and the candidate's log
 * is at least as up to date as ours (§5.4.1).
 */
export function handleVoteRequest(r: Raft, m: Message): void {
  const canVote =
    r.vote === m.from ||
    (r.vote === 0n && r.lead === 0n) ||
    (m.type === MessageType.PreVote && m.term > r.term);
  if (canVote && r.raftLog.isUpToDate(m.index, m.logTerm)) {
    // A pre-vote answer carries the candidate's term so it is not discarded as stale.
    r.send(newMessage({ type: voteRespMsgType(m.type), to: m.from, term: m.term }));
    if (m.type === MessageType.Vote) {
      r.electionElapsed = 0;
      r.vote = m.from;
    }
  } else {
    r.send(newMessage({ type: voteRespMsgType(m.type), to: m.from, term: r.term, reject: true }));
  }
}

/** Followers and candidates: campaign once the randomised election timeout passes without a leader. */
export function tickElection(r: Raft, onHup: () => void): void {
  r.electionElapsed++;
  if (r.promotable() && r.pastElectionTimeout()) {
    r.electionElapsed = 0;
    onHup();
  }
}

/** Leader lease (thesis §4.2.3/§9.6): with check-quorum, a node that heard from a leader within the minimum election timeout ignores vote requests. */
export function inLeaderLease(r: Raft): boolean {
  return r.cfg.checkQuorum && r.lead !== 0n && r.electionElapsed < r.electionTimeout;
}
