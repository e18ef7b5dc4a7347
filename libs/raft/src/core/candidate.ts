import { ProposalDroppedError } from '../errors';
import { VoteResult } from '../quorum/types';
import { type Message, MessageType, NONE, StateType } from '../types';
import { CampaignType, campaign, poll } from './election';
import type { Raft } from './raft';
import { bcastAppend, handleAppendEntries, handleHeartbeat } from './replication';
import { handleSnapshot } from './snapshot';

/** Candidates and pre-candidates (paper §5.2). */
export function stepCandidate(r: Raft, m: Message): void {
  const myVoteRespType = r.state === StateType.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
  switch (m.type) {
    case MessageType.Prop:
      r.logger.info(`${r.id.toString(16)} no leader at term ${r.term}; dropping proposal`);
      throw new ProposalDroppedError();
    case MessageType.App:
      // A leader of our term exists (m.term === r.term here): follow it.
      r.becomeFollower(m.term, m.from);
      handleAppendEntries(r, m);
      return;
    case MessageType.Heartbeat:
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return;
    case MessageType.Snap:
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return;
    case myVoteRespType:
      handleVoteResponse(r, m);
      return;
    case MessageType.TimeoutNow:
      r.logger.debug(`${r.id.toString(16)} ignored TimeoutNow from ${m.from.toString(16)}: not a follower`);
      return;
    default:
      return;
  }
}

function handleVoteResponse(r: Raft, m: Message): void {
  const result = poll(r, m.from, m.type, !m.reject);
  if (result === VoteResult.Won) {
    if (r.state === StateType.PreCandidate) {
      campaign(r, CampaignType.Election);
    } else {
      r.becomeLeader();
      bcastAppend(r);
    }
  } else if (result === VoteResult.Lost) {
    // A lost pre-vote answered with a higher term already moved us to that term in step().
    r.becomeFollower(r.term, NONE);
  }
}
