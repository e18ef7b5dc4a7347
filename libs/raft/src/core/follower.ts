import { ProposalDroppedError } from '../errors';
import { type Message, MessageType, NONE } from '../types';
import { campaignOnTimeoutNow } from './election';
import type { Raft } from './raft';
import { handleAppendEntries, handleHeartbeat } from './replication';
import { handleSnapshot } from './snapshot';

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.Prop:
      if (r.lead === NONE) {
        r.logger.info(`${r.id.toString(16)} no leader at term ${r.term}; dropping proposal`);
        throw new ProposalDroppedError();
      }
      if (r.cfg.disableProposalForwarding) {
        r.logger.info(`${r.id.toString(16)} not forwarding to leader ${r.lead.toString(16)} at term ${r.term}; dropping proposal`);
        throw new ProposalDroppedError();
      }
      r.send({ ...m, to: r.lead });
      return;
    case MessageType.App:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleAppendEntries(r, m);
      return;
    case MessageType.Heartbeat:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleHeartbeat(r, m);
      return;
    case MessageType.Snap:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleSnapshot(r, m);
      return;
    case MessageType.TransferLeader:
      if (r.lead === NONE) {
        r.logger.info(`${r.id.toString(16)} no leader at term ${r.term}; dropping leader transfer msg`);
        return;
      }
      r.send({ ...m, to: r.lead });
      return;
    case MessageType.TimeoutNow:
      // The leader chose us: campaign now, bypassing leases and pre-vote (thesis §3.10).
      r.logger.info(`${r.id.toString(16)} received TimeoutNow from ${m.from.toString(16)}; campaigning`);
      campaignOnTimeoutNow(r);
      return;
    case MessageType.ReadIndex:
      if (r.lead === NONE) {
        r.logger.info(`${r.id.toString(16)} no leader at term ${r.term}; dropping index reading msg`);
        return;
      }
      r.send({ ...m, to: r.lead });
      return;
    case MessageType.ReadIndexResp:
      if (m.entries.length !== 1) {
        r.logger.error(`${r.id.toString(16)} invalid ReadIndexResp from ${m.from.toString(16)}: ${m.entries.length} entries`);
        return;
      }
      r.readStates.push({ index: m.index, requestCtx: m.entries[0]!.data });
      return;
    default:
      return;
  }
}
