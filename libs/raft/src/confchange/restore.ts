import type { ProgressTracker } from '../tracker/tracker';
import { type ConfChangeSingle, type ConfState, ConfChangeType } from '../types';
import { type ChangeResult, Changer } from './changer';

/**
 * Rebuilds the configuration described by a ConfState (e.g. from a snapshot) by replaying it as
 * a sequence of changes through the Changer, so every invariant it checks holds for the result.
 * The tracker must start from an empty configuration.
 */
export function restoreConfig(tracker: ProgressTracker, lastIndex: number, cs: ConfState): ChangeResult {
  const outgoing: ConfChangeSingle[] = cs.votersOutgoing.map((nodeId) => ({ type: ConfChangeType.AddNode, nodeId }));
  // The incoming config is reached from the outgoing one: remove the outgoing voters, then add.
  const incoming: ConfChangeSingle[] = [
    ...cs.votersOutgoing.map((nodeId) => ({ type: ConfChangeType.RemoveNode, nodeId })),
    ...cs.voters.map((nodeId) => ({ type: ConfChangeType.AddNode, nodeId })),
    ...cs.learners.map((nodeId) => ({ type: ConfChangeType.AddLearnerNode, nodeId })),
    ...cs.learnersNext.map((nodeId) => ({ type: ConfChangeType.AddLearnerNode, nodeId })),
  ];
  let result: ChangeResult = { config: tracker.config, progress: tracker.progress };
  const step = (fn: (changer: Changer) => ChangeResult): void => {
    result = fn(new Changer(tracker, lastIndex));
    tracker.config = result.config;
    tracker.progress = result.progress;
  };
  if (outgoing.length === 0) {
    for (const cc of incoming) step((c) => c.simple([cc]));
  } else {
    for (const cc of outgoing) step((c) => c.simple([cc]));
    step((c) => c.enterJoint(cs.autoLeave, incoming));
  }
  return result;
}

function sameIds(a: readonly bigint[], b: readonly bigint[]): boolean {
  if (a.length !== b.length) return false;
  const sa = [...a].sort();
  const sb = [...b].sort();
  return sa.every((v, i) => v === sb[i]);
}

export function confStatesEqual(a: ConfState, b: ConfState): boolean {
  return sameIds(a.voters, b.voters) && sameIds(a.learners, b.learners) && sameIds(a.votersOutgoing, b.votersOutgoing)
    && sameIds(a.learnersNext, b.learnersNext) && a.autoLeave === b.autoLeave;
}
