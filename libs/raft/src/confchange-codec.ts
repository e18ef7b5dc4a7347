// Compact binary encoding of conf changes for Entry.data.
//
// ConfChange   (EntryType.ConfChange):   0x01 | type u8 | nodeId u64 BE | ctxLen u32 BE | ctx
// ConfChangeV2 (EntryType.ConfChangeV2): 0x02 | transition u8 | count u32 BE | count × (type u8 | nodeId u64 BE) | ctxLen u32 BE | ctx
import {
  type ConfChange,
  type ConfChangeSingle,
  type ConfChangeV2,
  type Entry,
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
} from './types';

const V1_TAG = 0x01;
const V2_TAG = 0x02;
const SINGLE_BYTES = 9;

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const ctx = cc.context ?? new Uint8Array(0);
  const out = new Uint8Array(1 + SINGLE_BYTES + 4 + ctx.length);
  const view = new DataView(out.buffer);
  out[0] = V1_TAG;
  writeSingle(view, 1, { type: cc.type, nodeId: cc.nodeId });
  view.setUint32(1 + SINGLE_BYTES, ctx.length);
  out.set(ctx, 1 + SINGLE_BYTES + 4);
  return out;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  const view = viewOf(data);
  expect(data.length >= 1 + SINGLE_BYTES + 4 && data[0] === V1_TAG, 'not an encoded ConfChange');
  const single = readSingle(view, 1);
  const context = readContext(data, view, 1 + SINGLE_BYTES);
  return { type: single.type, nodeId: single.nodeId, ...(context.length > 0 ? { context } : {}) };
}

export function encodeConfChangeV2(cc: ConfChangeV2): Uint8Array {
  const ctx = cc.context ?? new Uint8Array(0);
  const out = new Uint8Array(2 + 4 + cc.changes.length * SINGLE_BYTES + 4 + ctx.length);
  const view = new DataView(out.buffer);
  out[0] = V2_TAG;
  out[1] = cc.transition;
  view.setUint32(2, cc.changes.length);
  let pos = 6;
  for (const change of cc.changes) {
    writeSingle(view, pos, change);
    pos += SINGLE_BYTES;
  }
  view.setUint32(pos, ctx.length);
  out.set(ctx, pos + 4);
  return out;
}

export function decodeConfChangeV2(data: Uint8Array): ConfChangeV2 {
  const view = viewOf(data);
  expect(data.length >= 10 && data[0] === V2_TAG, 'not an encoded ConfChangeV2');
  const transition = data[1]!;
  expect(transition in ConfChangeTransition, `bad transition ${transition}`);
  const count = view.getUint32(2);
  expect(data.length >= 10 + count * SINGLE_BYTES, 'truncated ConfChangeV2');
  const changes: ConfChangeSingle[] = [];
  let pos = 6;
  for (let i = 0; i < count; i++, pos += SINGLE_BYTES) changes.push(readSingle(view, pos));
  const context = readContext(data, view, pos);
  return { transition: transition as ConfChangeTransition, changes, ...(context.length > 0 ? { context } : {}) };
}

/** A legacy ConfChange expressed as a V2 change (one simple change, Auto transition). */
export function confChangeAsV2(cc: ConfChange): ConfChangeV2 {
  return {
    transition: ConfChangeTransition.Auto,
    changes: [{ type: cc.type, nodeId: cc.nodeId }],
    ...(cc.context !== undefined ? { context: cc.context } : {}),
  };
}

export function isConfChangeV1(cc: ConfChange | ConfChangeV2): cc is ConfChange {
  return (cc as ConfChange).nodeId !== undefined && (cc as ConfChangeV2).changes === undefined;
}

export function toConfChangeV2(cc: ConfChange | ConfChangeV2): ConfChangeV2 {
  return isConfChangeV1(cc) ? confChangeAsV2(cc) : cc;
}

/** Encodes either kind of change and reports which entry type carries it. */
export function encodeAnyConfChange(cc: ConfChange | ConfChangeV2): { type: EntryType; data: Uint8Array } {
  if (isConfChangeV1(cc)) return { type: EntryType.ConfChange, data: encodeConfChange(cc) };
  return { type: EntryType.ConfChangeV2, data: encodeConfChangeV2(cc) };
}

/** Decodes the conf change carried by a ConfChange/ConfChangeV2 entry, as V2. */
export function decodeEntryConfChange(entry: Entry): ConfChangeV2 {
  if (entry.type === EntryType.ConfChange) return confChangeAsV2(decodeConfChange(entry.data));
  if (entry.type === EntryType.ConfChangeV2) return decodeConfChangeV2(entry.data);
  throw new Error(`entry ${entry.index} is not a conf change`);
}

/** ConfChangeV2 helpers mirroring the joint-consensus rules. */
export function enterJoint(cc: ConfChangeV2): { joint: boolean; autoLeave: boolean } {
  if (cc.transition !== ConfChangeTransition.Auto || cc.changes.length > 1) {
    return { joint: true, autoLeave: cc.transition !== ConfChangeTransition.Explicit };
  }
  return { joint: false, autoLeave: false };
}

/** An empty ConfChangeV2 is the request to leave a joint configuration. */
export function leaveJoint(cc: ConfChangeV2): boolean {
  return cc.changes.length === 0 && cc.transition === ConfChangeTransition.Auto;
}

function writeSingle(view: DataView, pos: number, change: ConfChangeSingle): void {
  view.setUint8(pos, change.type);
  view.setBigUint64(pos + 1, BigInt.asUintN(64, change.nodeId));
}

function readSingle(view: DataView, pos: number): ConfChangeSingle {
  const type = view.getUint8(pos);
  expect(type in ConfChangeType, `bad conf change type ${type}`);
  return { type: type as ConfChangeType, nodeId: view.getBigUint64(pos + 1) };
}

function readContext(data: Uint8Array, view: DataView, pos: number): Uint8Array {
  expect(data.length >= pos + 4, 'truncated conf change context length');
  const len = view.getUint32(pos);
  expect(data.length === pos + 4 + len, 'conf change context length mismatch');
  return data.slice(pos + 4, pos + 4 + len);
}

function viewOf(data: Uint8Array): DataView {
  return new DataView(data.buffer, data.byteOffset, data.byteLength);
}

function expect(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`confchange codec: ${message}`);
}
