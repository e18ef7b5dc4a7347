// What the watch hub hands to a stream's sink, and how big it is on the wire.
//
// The shape mirrors etcdserverpb.WatchResponse minus the header's cluster fields, which
// the member fills in (it knows cluster id, member id and raft term; the hub does not).
// Sizes are protobuf encoded sizes of the events (exact) plus a fixed allowance for
// the header and flags, so byte limits and fragmenting track what goes on the wire.

import type { Event, KeyValue } from '../types';
import { keyValueFieldsBytes, varintBytes } from '../proto-size';

/** Watch ID of responses that belong to no single watcher (failed create, stream-wide progress). */
export const NO_WATCH_ID = -1n;

export interface WatchResponse {
  watchId: bigint;
  /** Header revision: every event of this watcher up to here has been delivered (see WatchHub). */
  revision: number;
  created: boolean;
  canceled: boolean;
  /** Non-zero only on the cancel sent to a watcher whose start revision was compacted. */
  compactRevision: number;
  cancelReason: string;
  /** True on every fragment of a split response but the last (client asked for fragment). */
  fragment: boolean;
  events: Event[];
}

export function controlResponse(fields: Partial<WatchResponse> & { watchId: bigint; revision: number }): WatchResponse {
  return {
    created: false,
    canceled: false,
    compactRevision: 0,
    cancelReason: '',
    fragment: false,
    events: [],
    ...fields,
  };
}

/** Header (four varints, ≤ 10 bytes each, plus tags) and the scalar fields, rounded up. */
export const RESPONSE_OVERHEAD_BYTES = 64;

function keyValueBytes(kv: KeyValue): number {
  return keyValueFieldsBytes(kv.key.length, kv.createRevision, kv.modRevision, kv.version, kv.value.length, kv.lease);
}

export function eventBytes(event: Event): number {
  const kv = keyValueBytes(event.kv);
  // The type is omitted for PUT (0, proto3's default) and a one-byte varint otherwise.
  let bytes = (event.type === 0 ? 0 : 1 + varintBytes(event.type)) + 1 + varintBytes(kv) + kv;
  if (event.prevKv !== undefined) {
    const prev = keyValueBytes(event.prevKv);
    bytes += 1 + varintBytes(prev) + prev;
  }
  return bytes;
}

/** Bytes an event adds inside a WatchResponse (repeated field: tag + length + body). */
export function eventFieldBytes(event: Event): number {
  const body = eventBytes(event);
  return 1 + varintBytes(body) + body;
}

export function responseBytes(response: WatchResponse): number {
  let bytes = RESPONSE_OVERHEAD_BYTES + response.cancelReason.length;
  for (const event of response.events) bytes += eventFieldBytes(event);
  return bytes;
}
