// Raft messages on the peer wire: @keel/raft's in-memory shapes (terms/indexes as numbers)
// to and from keel.internal.Message (uint64 as bigint). Numbers beyond 2^53 are refused when
// decoding: a peer sending them is broken.
import { internal } from '@keel/proto';
import type { ConfState, Entry, Message, Snapshot } from '@keel/raft';
import { encodeMessageWithoutSnapshot, fitsRaftWire, readMessage } from './raft-wire';

function toNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`raft codec: ${value} exceeds 2^53`);
  return Number(value);
}

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function entryToPb(e: Entry): internal.Entry {
  return { type: e.type as number, term: BigInt(e.term), index: BigInt(e.index), data: asBuffer(e.data) };
}

function entryFromPb(e: internal.Entry): Entry {
  return { type: e.type as number, term: toNumber(e.term), index: toNumber(e.index), data: e.data };
}

function confStateToPb(c: ConfState): internal.ConfState {
  return { ...c };
}

function confStateFromPb(c: internal.ConfState | undefined): ConfState {
  return {
    voters: c?.voters ?? [],
    learners: c?.learners ?? [],
    votersOutgoing: c?.votersOutgoing ?? [],
    learnersNext: c?.learnersNext ?? [],
    autoLeave: c?.autoLeave ?? false,
  };
}

export function snapshotToPb(s: Snapshot): internal.Snapshot {
  return {
    data: asBuffer(s.data),
    metadata: { confState: confStateToPb(s.metadata.confState), index: BigInt(s.metadata.index), term: BigInt(s.metadata.term) },
  };
}

export function snapshotFromPb(s: internal.Snapshot): Snapshot {
  return {
    data: s.data,
    metadata: {
      confState: confStateFromPb(s.metadata?.confState),
      index: toNumber(s.metadata?.index ?? 0n),
      term: toNumber(s.metadata?.term ?? 0n),
    },
  };
}

/** The peer wire's bytes of `m`: ./raft-wire for the common messages, the generated codec otherwise. */
export function encodeMessage(m: Message): Uint8Array {
  return fitsRaftWire(m) ? encodeMessageWithoutSnapshot(m) : encodeWithGeneratedCodec(m);
}

export function encodeWithGeneratedCodec(m: Message): Uint8Array {
  return internal.Message.encode({
    type: m.type as number,
    to: m.to,
    from: m.from,
    term: BigInt(m.term),
    logTerm: BigInt(m.logTerm),
    index: BigInt(m.index),
    entries: m.entries.map(entryToPb),
    commit: BigInt(m.commit),
    snapshot: m.snapshot ? snapshotToPb(m.snapshot) : undefined,
    reject: m.reject,
    rejectHint: BigInt(m.rejectHint),
    context: m.context ? asBuffer(m.context) : Buffer.alloc(0),
  }).finish();
}

export function decodeMessage(bytes: Uint8Array): Message {
  return readMessage(bytes) ?? decodeWithGeneratedCodec(bytes);
}

export function decodeWithGeneratedCodec(bytes: Uint8Array): Message {
  const m = internal.Message.decode(bytes);
  const message: Message = {
    type: m.type as number,
    to: m.to,
    from: m.from,
    term: toNumber(m.term),
    logTerm: toNumber(m.logTerm),
    index: toNumber(m.index),
    entries: m.entries.map(entryFromPb),
    commit: toNumber(m.commit),
    reject: m.reject,
    rejectHint: toNumber(m.rejectHint),
  };
  if (m.snapshot) message.snapshot = snapshotFromPb(m.snapshot);
  if (m.context.length > 0) message.context = m.context;
  return message;
}
