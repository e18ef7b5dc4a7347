// Choice of the random disturbances applied to a simulated cluster: partitions and conf
// changes. Pure functions of the Prng and the cluster's current shape.
import { ConfChangeTransition, ConfChangeType, type ConfChangeSingle, type ConfChangeV2, type ConfState } from '../../types';
import type { Prng } from '../prng';
import type { SimNetwork } from './network';

/** Cuts links in one of several shapes; returns a description for the trace. */
export function partitionRandomly<M>(prng: Prng, network: SimNetwork<M>, ids: readonly bigint[]): string {
  const shuffled = prng.shuffle([...ids]);
  const victim = shuffled[0]!;
  switch (prng.int(4)) {
    case 0: {
      network.split([victim], shuffled.slice(1));
      return `isolate ${victim}`;
    }
    case 1: {
      const cut = prng.range(1, shuffled.length - 1);
      network.split(shuffled.slice(0, cut), shuffled.slice(cut));
      return `split (${shuffled.slice(0, cut).join(',')}) | (${shuffled.slice(cut).join(',')})`;
    }
    case 2: {
      // One-way: the victim hears everybody but nobody hears it (a deposed leader's view).
      for (const other of shuffled.slice(1)) network.block(victim, other);
      return `mute ${victim} (outbound cut)`;
    }
    default: {
      for (const other of shuffled.slice(1)) network.block(other, victim);
      return `deafen ${victim} (inbound cut)`;
    }
  }
}

export interface MembershipView {
  conf: ConfState;
  /** IDs that may still be added (never members so far, never removed). */
  spares: bigint[];
}

/**
 * Picks a conf change valid against `conf` (the leader's applied configuration), or undefined
 * when none fits. Never leaves zero voters. Removed IDs are returned in `removes` so the caller
 * can retire them (IDs are never reused, as in etcd).
 */
export function chooseConfChange(prng: Prng, view: MembershipView): { cc: ConfChangeV2; removes: bigint[] } | undefined {
  const { conf, spares } = view;
  if (conf.votersOutgoing.length > 0) {
    // Joint: only leaving is allowed; with autoLeave the leader does it by itself.
    if (conf.autoLeave) return undefined;
    return { cc: { transition: ConfChangeTransition.Auto, changes: [] }, removes: [] };
  }
  const options: Array<() => { changes: ConfChangeSingle[]; removes: bigint[] } | undefined> = [
    () => (spares.length > 0 ? { changes: [{ type: ConfChangeType.AddLearnerNode, nodeId: prng.pick(spares) }], removes: [] } : undefined),
    () => (conf.learners.length > 0 ? { changes: [{ type: ConfChangeType.AddNode, nodeId: prng.pick(conf.learners) }], removes: [] } : undefined),
    () => (spares.length > 0 ? { changes: [{ type: ConfChangeType.AddNode, nodeId: prng.pick(spares) }], removes: [] } : undefined),
    () => {
      const members = [...conf.voters, ...conf.learners];
      const victim = prng.pick(members);
      const isVoter = conf.voters.includes(victim);
      if (isVoter && conf.voters.length <= 2) return undefined;
      return { changes: [{ type: ConfChangeType.RemoveNode, nodeId: victim }], removes: [victim] };
    },
    () => {
      // Replace a voter by a spare in one joint step.
      if (spares.length === 0 || conf.voters.length < 2) return undefined;
      const victim = prng.pick(conf.voters);
      return {
        changes: [
          { type: ConfChangeType.AddNode, nodeId: prng.pick(spares) },
          { type: ConfChangeType.RemoveNode, nodeId: victim },
        ],
        removes: [victim],
      };
    },
    () => {
      // Demote a voter to learner (joint), possibly promoting a learner at the same time.
      if (conf.voters.length <= 2) return undefined;
      const changes: ConfChangeSingle[] = [{ type: ConfChangeType.AddLearnerNode, nodeId: prng.pick(conf.voters) }];
      if (conf.learners.length > 0) changes.push({ type: ConfChangeType.AddNode, nodeId: prng.pick(conf.learners) });
      return { changes, removes: [] };
    },
  ];
  const picked = prng.pick(options)();
  if (picked === undefined) return undefined;
  const joint = picked.changes.length > 1 || prng.chance(0.25);
  const transition = joint ? prng.pick([ConfChangeTransition.Auto, ConfChangeTransition.Implicit, ConfChangeTransition.Explicit]) : ConfChangeTransition.Auto;
  // A single change with Auto is a simple change; a multi-change Auto becomes joint (auto-leave).
  const effective = picked.changes.length === 1 && transition === ConfChangeTransition.Auto && joint ? ConfChangeTransition.Implicit : transition;
  return { cc: { transition: effective, changes: picked.changes }, removes: picked.removes };
}
