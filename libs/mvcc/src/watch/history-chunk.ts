// One history read serving a group of unsynced watchers (etcd's syncWatchers idea):
// read [min nextRevision, target] once, then hand each watcher the events of its keys
// from its own nextRevision on. Many watchers far behind then cost one scan of history,
// not one each. A group of one pushes its key range down to the source.

import type { Event, KeyRange, WatchSource } from '../types';
import { keyText } from './key-range';
import { PrevKvLookups } from './prev-kv';
import type { Watcher } from './watcher';
import { WatcherIndex } from './watcher-index';

const ALL_KEYS: KeyRange = { key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) };

export interface HistoryChunk {
  /** Per watcher of the group: its events in [its nextRevision, nextRevision), in order. */
  events: Map<Watcher, Event[]>;
  /** First revision the read did not cover; the same for the whole group. */
  nextRevision: number;
}

/**
 * Preconditions: group non-empty; every member's nextRevision is in [from, target] and
 * stays put until the chunk is delivered (members are in the 'reading' state).
 */
export async function readHistoryChunk(
  source: WatchSource,
  group: readonly Watcher[],
  target: number,
  limit: number,
): Promise<HistoryChunk> {
  const from = Math.min(...group.map((watcher) => watcher.nextRevision));
  const range = group.length === 1 ? group[0]!.range : ALL_KEYS;
  const result = await source.readEvents(from, target, range, limit);
  checkResult(result.events, result.nextRevision, from, target);

  const index = new WatcherIndex();
  const events = new Map<Watcher, Event[]>();
  for (const watcher of group) {
    index.add(watcher);
    events.set(watcher, []);
  }
  for (const event of result.events) {
    const revision = event.kv.modRevision;
    index.forEachMatch(keyText(event.kv.key), (watcher) => {
      if (revision >= watcher.nextRevision) events.get(watcher)!.push(event);
    });
  }
  const lookups = new PrevKvLookups(source);
  await Promise.all(
    group
      .filter((watcher) => watcher.options.prevKv)
      .map(async (watcher) => events.set(watcher, await lookups.completeAll(events.get(watcher)!))),
  );
  return { events, nextRevision: result.nextRevision };
}

/** The source's answer must stay inside what was asked; anything else is a bug there. */
function checkResult(events: readonly Event[], nextRevision: number, from: number, target: number): void {
  if (!(nextRevision > from && nextRevision <= target + 1)) {
    throw new Error(`watch: history read [${from}, ${target}] answered nextRevision ${nextRevision}`);
  }
  let previous = from;
  for (const event of events) {
    const revision = event.kv.modRevision;
    if (revision < previous || revision >= nextRevision) {
      throw new Error(`watch: history event at ${revision} outside [${from}, ${nextRevision})`);
    }
    previous = revision;
  }
}
