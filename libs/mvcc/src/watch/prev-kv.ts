// prev_kv for watchers that asked for it: the version of the key just before the event.

import { EventType, type Event, type KeyValue, type WatchSource } from '../types';

/** A create (first put of a generation) has no previous version to look up. */
export function needsPrevKvLookup(event: Event): boolean {
  if (event.prevKv !== undefined) return false;
  return !(event.type === EventType.PUT && event.kv.createRevision === event.kv.modRevision);
}

/**
 * Lookups for one batch or history chunk, shared by every watcher that wants them (each
 * event is looked up once however many watchers see it). Never rejects: like etcd, an
 * event whose previous version cannot be read is sent without prev_kv.
 */
export class PrevKvLookups {
  private readonly pending = new Map<Event, Promise<KeyValue | undefined>>();

  constructor(private readonly source: WatchSource) {}

  async complete(event: Event): Promise<Event> {
    if (!needsPrevKvLookup(event)) return event;
    let lookup = this.pending.get(event);
    if (lookup === undefined) {
      lookup = this.source.prevKvOf(event.kv).catch(() => undefined);
      this.pending.set(event, lookup);
    }
    const prevKv = await lookup;
    // A new object: the source's events are shared with other watchers and must not change.
    return prevKv === undefined ? event : { type: event.type, kv: event.kv, prevKv };
  }

  completeAll(events: readonly Event[]): Promise<Event[]> {
    return Promise.all(events.map((event) => this.complete(event)));
  }
}
