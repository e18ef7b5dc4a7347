import { type Entry, MessageType } from './types';

/** Fixed per-entry overhead used in byte accounting (term, index, type, framing). */
const ENTRY_OVERHEAD_BYTES = 24;

/** Approximate encoded size of an entry, used for message and Ready size caps. */
export function entrySize(e: Entry): number {
  return e.data.length + ENTRY_OVERHEAD_BYTES;
}

/** Size of the application payload only; used for the uncommitted-size cap. */
export function payloadSize(e: Entry): number {
  return e.data.length;
}

export function payloadsSize(entries: readonly Entry[]): number {
  let size = 0;
  for (const e of entries) size += e.data.length;
  return size;
}

export function entriesSize(entries: readonly Entry[]): number {
  let size = 0;
  for (const e of entries) size += entrySize(e);
  return size;
}

/**
 * Longest prefix of `entries` whose total size stays within maxBytes, but never fewer than one
 * entry. Returns the input array itself (no copy) when nothing is cut.
 */
export function limitSize<T extends Entry>(entries: T[], maxBytes: number): T[] {
  if (entries.length <= 1) return entries;
  let size = entrySize(entries[0]!);
  let limit = 1;
  for (; limit < entries.length; limit++) {
    size += entrySize(entries[limit]!);
    if (size > maxBytes) break;
  }
  return limit === entries.length ? entries : entries.slice(0, limit);
}

// Lookup tables indexed by MessageType (cheaper than Set lookups on the hot path).
const LOCAL_TYPES: readonly boolean[] = flagTypes([
  MessageType.Hup,
  MessageType.Beat,
  MessageType.Unreachable,
  MessageType.SnapStatus,
  MessageType.CheckQuorum,
]);

const RESPONSE_TYPES: readonly boolean[] = flagTypes([
  MessageType.AppResp,
  MessageType.VoteResp,
  MessageType.HeartbeatResp,
  MessageType.Unreachable,
  MessageType.PreVoteResp,
]);

function flagTypes(types: MessageType[]): boolean[] {
  const flags = new Array<boolean>(MessageType.PreVoteResp + 1).fill(false);
  for (const t of types) flags[t] = true;
  return flags;
}

/** Messages a node generates for itself; never valid from the network. */
export function isLocalMsg(type: MessageType): boolean {
  return LOCAL_TYPES[type] === true;
}

export function isResponseMsg(type: MessageType): boolean {
  return RESPONSE_TYPES[type] === true;
}

/** The response type matching a vote request type. */
export function voteRespMsgType(type: MessageType): MessageType {
  if (type === MessageType.Vote) return MessageType.VoteResp;
  if (type === MessageType.PreVote) return MessageType.PreVoteResp;
  throw new Error(`not a vote message: ${MessageType[type]}`);
}

export function bytesEqual(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A bigint map key made printable, for logs. */
export function hexId(id: bigint): string {
  return id.toString(16);
}
