// Turns the events one watcher should see into responses.
//
// Responses are cut only at revision boundaries, into "units" of at most
// responseBytesMax (a unit holding a single revision may be larger). A unit is what the
// outbox admits or refuses as a whole, so a watcher that runs out of queue room stops
// at a revision boundary and can resume from history at exactly the first revision it
// did not get. A watcher that asked for fragments gets a large unit split into several
// responses, all but the last marked `fragment` (etcd's sendFragments behaviour: split
// only when the response is at least the limit and has two or more events; each piece
// below the limit unless it holds a single event).

import { EventType, type Event } from '../types';
import { RESPONSE_OVERHEAD_BYTES, eventFieldBytes, type WatchResponse } from './response';
import type { Watcher } from './watcher';

export interface ResponseUnit {
  /** Revision of the unit's first event. */
  firstRevision: number;
  responses: WatchResponse[];
  bytes: number;
}

/** Applies the watcher's filters and strips prevKv it did not ask for. */
export function eventsFor(watcher: Watcher, events: readonly Event[]): Event[] {
  const { noPut, noDelete, prevKv } = watcher.options;
  const out: Event[] = [];
  for (const event of events) {
    if (noPut && event.type === EventType.PUT) continue;
    if (noDelete && event.type === EventType.DELETE) continue;
    out.push(!prevKv && event.prevKv !== undefined ? { type: event.type, kv: event.kv } : event);
  }
  return out;
}

/**
 * Precondition: events are in revision order and all >= watcher.nextRevision.
 * `headerRevision` (>= the last event's revision) goes on the last unit; earlier units
 * carry their own last revision, so a header revision never claims more than was sent.
 */
export function unitsFor(
  watcher: Watcher,
  events: readonly Event[],
  headerRevision: number,
  responseBytesMax: number,
): ResponseUnit[] {
  const units: ResponseUnit[] = [];
  let current: Event[] = [];
  let currentBytes = RESPONSE_OVERHEAD_BYTES;
  let index = 0;
  while (index < events.length) {
    // Take one whole revision.
    const revision = events[index]!.kv.modRevision;
    let end = index;
    let revisionBytes = 0;
    while (end < events.length && events[end]!.kv.modRevision === revision) {
      revisionBytes += eventFieldBytes(events[end]!);
      end++;
    }
    if (current.length > 0 && currentBytes + revisionBytes > responseBytesMax) {
      units.push(makeUnit(watcher, current, currentBytes, lastRevision(current), responseBytesMax));
      current = [];
      currentBytes = RESPONSE_OVERHEAD_BYTES;
    }
    for (let i = index; i < end; i++) current.push(events[i]!);
    currentBytes += revisionBytes;
    index = end;
  }
  if (current.length > 0) units.push(makeUnit(watcher, current, currentBytes, headerRevision, responseBytesMax));
  return units;
}

function lastRevision(events: readonly Event[]): number {
  return events[events.length - 1]!.kv.modRevision;
}

function makeUnit(
  watcher: Watcher,
  events: Event[],
  bytes: number,
  revision: number,
  responseBytesMax: number,
): ResponseUnit {
  const response: WatchResponse = {
    watchId: watcher.id,
    revision,
    created: false,
    canceled: false,
    compactRevision: 0,
    cancelReason: '',
    fragment: false,
    events,
  };
  const responses =
    watcher.options.fragment && bytes >= responseBytesMax && events.length >= 2
      ? fragments(response, responseBytesMax)
      : [response];
  return { firstRevision: events[0]!.kv.modRevision, responses, bytes };
}

function fragments(whole: WatchResponse, responseBytesMax: number): WatchResponse[] {
  const pieces: WatchResponse[] = [];
  let events: Event[] = [];
  let bytes = RESPONSE_OVERHEAD_BYTES;
  for (const event of whole.events) {
    const size = eventFieldBytes(event);
    if (events.length > 0 && bytes + size >= responseBytesMax) {
      pieces.push({ ...whole, events, fragment: true });
      events = [];
      bytes = RESPONSE_OVERHEAD_BYTES;
    }
    events.push(event);
    bytes += size;
  }
  pieces.push({ ...whole, events, fragment: false });
  return pieces;
}
