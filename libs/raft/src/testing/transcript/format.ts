// Text forms of Raft values for transcripts. Compact and stable: one message or entry per
// line, only the fields that mean something for the message type.
import { decodeEntryConfChange } from '../../confchange-codec';
import {
  type ConfChangeV2,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Ready,
  type Snapshot,
  type Status,
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  MessageType,
  ProgressState,
  StateType,
} from '../../types';

const decoder = new TextDecoder();

export function ids(list: readonly bigint[]): string {
  return `(${list.map(String).join(',')})`;
}

export function formatConf(c: ConfState): string {
  let out = `voters=${ids(c.voters)}`;
  if (c.votersOutgoing.length > 0) out += `&&${ids(c.votersOutgoing)}`;
  if (c.learners.length > 0) out += ` learners=${ids(c.learners)}`;
  if (c.learnersNext.length > 0) out += ` learners_next=${ids(c.learnersNext)}`;
  if (c.autoLeave) out += ' autoleave';
  return out;
}

const CHANGE_LETTER: Record<ConfChangeType, string> = {
  [ConfChangeType.AddNode]: 'v',
  [ConfChangeType.AddLearnerNode]: 'l',
  [ConfChangeType.RemoveNode]: 'r',
  [ConfChangeType.UpdateNode]: 'u',
};

export function formatConfChange(cc: ConfChangeV2): string {
  const changes = cc.changes.map((c) => `${CHANGE_LETTER[c.type]}${c.nodeId}`).join(' ');
  const transition = cc.transition === ConfChangeTransition.Auto ? '' : ` ${ConfChangeTransition[cc.transition].toLowerCase()}`;
  return changes === '' ? `leave-joint${transition}` : `${changes}${transition}`;
}

export function formatEntry(e: Entry): string {
  if (e.type === EntryType.Normal) return `${e.term}/${e.index} ${JSON.stringify(decoder.decode(e.data))}`;
  const kind = e.type === EntryType.ConfChange ? 'cc' : 'ccv2';
  return `${e.term}/${e.index} ${kind}(${formatConfChange(decodeEntryConfChange(e))})`;
}

export function formatHardState(hs: HardState): string {
  return `term=${hs.term} vote=${hs.vote} commit=${hs.commit}`;
}

export function formatSnapshot(s: Snapshot): string {
  return `${s.metadata.term}/${s.metadata.index} ${formatConf(s.metadata.confState)} data=${JSON.stringify(decoder.decode(s.data))}`;
}

/** One line per message: `from->to Type term=T ...` with type-specific fields. */
export function formatMessage(m: Message): string {
  const parts = [`${m.from}->${m.to}`, MessageType[m.type], `term=${m.term}`];
  switch (m.type) {
    case MessageType.App:
      parts.push(`log=${m.logTerm}/${m.index}`, `commit=${m.commit}`);
      if (m.entries.length > 0) parts.push(`entries=[${m.entries.map(formatEntry).join(', ')}]`);
      break;
    case MessageType.AppResp:
      parts.push(`index=${m.index}`);
      if (m.reject) parts.push(`reject hint=${m.rejectHint}`);
      break;
    case MessageType.Vote:
    case MessageType.PreVote:
      parts.push(`log=${m.logTerm}/${m.index}`);
      break;
    case MessageType.VoteResp:
    case MessageType.PreVoteResp:
      if (m.reject) parts.push('reject');
      break;
    case MessageType.Heartbeat:
      parts.push(`commit=${m.commit}`);
      break;
    case MessageType.Snap:
      if (m.snapshot !== undefined) parts.push(`snapshot=${formatSnapshot(m.snapshot)}`);
      break;
    case MessageType.Prop:
      parts.push(`entries=[${m.entries.map(formatEntry).join(', ')}]`);
      break;
    case MessageType.ReadIndex:
      parts.push(`ctx=${JSON.stringify(decoder.decode(m.entries[0]?.data ?? new Uint8Array(0)))}`);
      break;
    case MessageType.ReadIndexResp:
      parts.push(`index=${m.index}`, `ctx=${JSON.stringify(decoder.decode(m.entries[0]?.data ?? new Uint8Array(0)))}`);
      break;
    default:
      break;
  }
  if (m.context !== undefined && m.context.length > 0) parts.push(`ctx=${JSON.stringify(decoder.decode(m.context))}`);
  return parts.join(' ');
}

/** Ready contents, indented under a "> N handling Ready" header by the caller. */
export function formatReady(rd: Ready): string[] {
  const out: string[] = [];
  if (rd.softState !== undefined) out.push(`soft: lead=${rd.softState.lead} state=${StateType[rd.softState.raftState]}`);
  if (rd.hardState !== undefined) out.push(`hard: ${formatHardState(rd.hardState)}`);
  if (rd.snapshot !== undefined && rd.snapshot.metadata.index > 0) out.push(`snapshot: ${formatSnapshot(rd.snapshot)}`);
  if (rd.entries.length > 0) out.push('entries:', ...rd.entries.map((e) => `  ${formatEntry(e)}`));
  if (rd.committedEntries.length > 0) out.push('committed:', ...rd.committedEntries.map((e) => `  ${formatEntry(e)}`));
  if (rd.messages.length > 0) out.push('messages:', ...rd.messages.map((m) => `  ${formatMessage(m)}`));
  for (const rs of rd.readStates) out.push(`read-state: index=${rs.index} ctx=${JSON.stringify(decoder.decode(rs.requestCtx))}`);
  if (rd.mustSync) out.push('must-sync');
  return out;
}

export function formatStatus(s: Status): string[] {
  const out = [
    `${s.id}: ${StateType[s.softState.raftState]} lead=${s.softState.lead} ${formatHardState(s.hardState)} applied=${s.applied}`,
    `  config: ${formatConf(s.config)}`,
  ];
  if (s.leadTransferee !== 0n) out.push(`  transferring to ${s.leadTransferee}`);
  if (s.progress !== undefined) {
    const peers = [...s.progress.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const id of peers) {
      const p = s.progress.get(id)!;
      const extra = [p.isLearner ? ' learner' : '', p.state === ProgressState.Snapshot ? ` pendingSnapshot=${p.pendingSnapshot}` : ''].join('');
      out.push(`  ${id}: ${ProgressState[p.state]} match=${p.match} next=${p.next}${extra}`);
    }
  }
  return out;
}
