// A sink that records what a watch client would receive, and can play a slow consumer.

import { EventType, type Event } from '../src/types';
import type { WatchResponse, WatchSink } from '../src/watch';

export class RecordingSink implements WatchSink {
  readonly responses: WatchResponse[] = [];
  private readonly byWatcher = new Map<bigint, WatchResponse[]>();
  /** While true, send() takes the response but reports backpressure. */
  blocked = false;
  onSend: ((response: WatchResponse) => void) | null = null;

  send(response: WatchResponse): boolean {
    this.responses.push(response);
    const list = this.byWatcher.get(response.watchId);
    if (list === undefined) this.byWatcher.set(response.watchId, [response]);
    else list.push(response);
    this.onSend?.(response);
    return !this.blocked;
  }

  /** Responses of one watcher that carry events. */
  eventResponses(watchId: bigint): WatchResponse[] {
    return this.ofWatcher(watchId).filter((r) => r.events.length > 0);
  }

  events(watchId: bigint): Event[] {
    return this.eventResponses(watchId).flatMap((r) => r.events);
  }

  /** Events as "PUT k@5" strings: easy to compare and to read in a failure. */
  described(watchId: bigint): string[] {
    return this.events(watchId).map(describe);
  }

  ofWatcher(watchId: bigint): WatchResponse[] {
    return this.byWatcher.get(watchId) ?? [];
  }

  clear(): void {
    this.responses.length = 0;
    this.byWatcher.clear();
  }
}

export function describe(event: Event): string {
  return `${event.type === EventType.PUT ? 'PUT' : 'DEL'} ${event.kv.key.toString()}@${event.kv.modRevision}`;
}

export const bytes = (text: string): Buffer => Buffer.from(text);

/** Lets microtasks and pending promise chains run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}
