// Pure configuration transitions: given the current configuration and progress map, compute the
// next ones for a simple change (one voter at a most, §4.1 of the thesis), entering a joint
// configuration (§4.3 / paper §6) or leaving it. Inputs are never mutated.
import { isJoint } from '../quorum/joint';
import { Progress } from '../tracker/progress';
import { type ProgressMap, type ProgressTracker, type TrackerConfig, cloneTrackerConfig } from '../tracker/tracker';
import { type ConfChangeSingle, ConfChangeType } from '../types';

export class ConfChangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfChangeError';
  }
}

export interface ChangeResult {
  config: TrackerConfig;
  progress: ProgressMap;
}

export class Changer {
  /**
   * @param tracker the current configuration (read only)
   * @param lastIndex leader's last log index: new peers start probing from there
   */
  constructor(private readonly tracker: ProgressTracker, private readonly lastIndex: number) {}

  /** Enters joint configuration C_old,new: incoming gets the changes, outgoing keeps C_old. */
  enterJoint(autoLeave: boolean, changes: readonly ConfChangeSingle[]): ChangeResult {
    const { config, progress } = this.checkAndCopy();
    if (isJoint(config.voters)) throw new ConfChangeError('config is already joint');
    if (config.voters.incoming.size === 0) throw new ConfChangeError("can't make a zero-voter config joint");
    config.voters.outgoing = new Set(config.voters.incoming);
    this.apply(config, progress, changes);
    config.autoLeave = autoLeave;
    return checkAndReturn(config, progress);
  }

  /** Leaves the joint configuration: C_new alone remains; demoted voters become learners. */
  leaveJoint(): ChangeResult {
    const { config, progress } = this.checkAndCopy();
    if (!isJoint(config.voters)) throw new ConfChangeError("can't leave a non-joint config");
    for (const id of config.learnersNext) {
      config.learners.add(id);
      progress.get(id)!.isLearner = true;
    }
    config.learnersNext.clear();
    for (const id of config.voters.outgoing) {
      if (!config.voters.incoming.has(id) && !config.learners.has(id)) progress.delete(id);
    }
    config.voters.outgoing = new Set();
    config.autoLeave = false;
    return checkAndReturn(config, progress);
  }

  /** Applies changes that alter at most one voter, without joint consensus. */
  simple(changes: readonly ConfChangeSingle[]): ChangeResult {
    const { config, progress } = this.checkAndCopy();
    if (isJoint(config.voters)) throw new ConfChangeError("can't apply simple config change in joint config");
    this.apply(config, progress, changes);
    if (symmetricDifference(this.tracker.config.voters.incoming, config.voters.incoming) > 1) {
      throw new ConfChangeError('more than one voter changed without entering joint config');
    }
    return checkAndReturn(config, progress);
  }

  private apply(config: TrackerConfig, progress: ProgressMap, changes: readonly ConfChangeSingle[]): void {
    for (const cc of changes) {
      if (cc.nodeId === 0n) continue; // a no-op change, e.g. to carry only a context
      switch (cc.type) {
        case ConfChangeType.AddNode:
          this.makeVoter(config, progress, cc.nodeId);
          break;
        case ConfChangeType.AddLearnerNode:
          this.makeLearner(config, progress, cc.nodeId);
          break;
        case ConfChangeType.RemoveNode:
          remove(config, progress, cc.nodeId);
          break;
        case ConfChangeType.UpdateNode:
          break;
        default:
          throw new ConfChangeError(`unexpected conf change type ${String(cc.type)}`);
      }
    }
    if (config.voters.incoming.size === 0) throw new ConfChangeError('removed all voters');
  }

  private makeVoter(config: TrackerConfig, progress: ProgressMap, id: bigint): void {
    const pr = progress.get(id);
    if (pr === undefined) {
      this.initProgress(config, progress, id, false);
      return;
    }
    pr.isLearner = false;
    config.learners.delete(id);
    config.learnersNext.delete(id);
    config.voters.incoming.add(id);
  }

  /**
   * A voter of the outgoing config cannot become a learner while still needed for its quorum,
   * so in a joint config it is staged in learnersNext until the joint config is left.
   */
  private makeLearner(config: TrackerConfig, progress: ProgressMap, id: bigint): void {
    const pr = progress.get(id);
    if (pr === undefined) {
      this.initProgress(config, progress, id, true);
      return;
    }
    if (pr.isLearner) return;
    remove(config, progress, id);
    progress.set(id, pr);
    if (config.voters.outgoing.has(id)) {
      config.learnersNext.add(id);
    } else {
      pr.isLearner = true;
      config.learners.add(id);
    }
  }

  private initProgress(config: TrackerConfig, progress: ProgressMap, id: bigint, isLearner: boolean): void {
    if (isLearner) config.learners.add(id);
    else config.voters.incoming.add(id);
    const pr = new Progress({
      match: 0,
      next: Math.max(this.lastIndex, 1),
      maxInflight: this.tracker.maxInflight,
      maxInflightBytes: this.tracker.maxInflightBytes,
      isLearner,
    });
    // A new peer counts as active so that check-quorum does not depose the leader right away.
    pr.recentActive = true;
    progress.set(id, pr);
  }

  private checkAndCopy(): ChangeResult {
    const config = cloneTrackerConfig(this.tracker.config);
    const progress: ProgressMap = new Map();
    for (const [id, pr] of this.tracker.progress) progress.set(id, pr.clone());
    return checkAndReturn(config, progress);
  }
}

function remove(config: TrackerConfig, progress: ProgressMap, id: bigint): void {
  if (!progress.has(id)) return;
  config.voters.incoming.delete(id);
  config.learners.delete(id);
  config.learnersNext.delete(id);
  // Still a voter of the outgoing config: keep tracking it until the joint config is left.
  if (!config.voters.outgoing.has(id)) progress.delete(id);
}

function symmetricDifference(a: ReadonlySet<bigint>, b: ReadonlySet<bigint>): number {
  let n = 0;
  for (const id of a) if (!b.has(id)) n++;
  for (const id of b) if (!a.has(id)) n++;
  return n;
}

function checkAndReturn(config: TrackerConfig, progress: ProgressMap): ChangeResult {
  checkInvariants(config, progress);
  return { config, progress };
}

/** Throws ConfChangeError if the configuration and progress map disagree. */
export function checkInvariants(config: TrackerConfig, progress: ProgressMap): void {
  const need = (id: bigint): Progress => {
    const pr = progress.get(id);
    if (pr === undefined) throw new ConfChangeError(`no progress for ${id}`);
    return pr;
  };
  for (const id of config.voters.incoming) need(id);
  for (const id of config.voters.outgoing) need(id);
  for (const id of config.learners) {
    if (!need(id).isLearner) throw new ConfChangeError(`${id} is in learners, but is not marked as learner`);
    if (config.voters.incoming.has(id) || config.voters.outgoing.has(id)) {
      throw new ConfChangeError(`${id} is in learners and voters`);
    }
  }
  for (const id of config.learnersNext) {
    if (!config.voters.outgoing.has(id)) throw new ConfChangeError(`${id} is in learnersNext, but not outgoing`);
    if (need(id).isLearner) throw new ConfChangeError(`${id} is in learnersNext, but is already marked as learner`);
  }
  if (!isJoint(config.voters)) {
    if (config.learnersNext.size > 0) throw new ConfChangeError('learnersNext must be empty when not joint');
    if (config.autoLeave) throw new ConfChangeError('autoLeave must be false when not joint');
  }
}
