// Applying configuration changes to a running node (thesis chapter 4, paper §6).
import { Changer } from '../confchange/changer';
import { encodeConfChangeV2, enterJoint, leaveJoint } from '../confchange-codec';
import { invariant } from '../errors';
import type { ProgressMap, TrackerConfig } from '../tracker/tracker';
import { type ConfChangeV2, type ConfState, ConfChangeTransition, EntryType, NONE, StateType } from '../types';
import type { Raft } from './raft';
import { bcastAppend, maybeSendAppend } from './replication';
import { handOffLeadership, isRemovedLeader } from './transfer';

/** Applies a committed conf change; returns the resulting configuration. */
export function applyConfChange(r: Raft, cc: ConfChangeV2): ConfState {
  const changer = new Changer(r.trk, r.raftLog.lastIndex());
  let result;
  if (leaveJoint(cc)) {
    result = changer.leaveJoint();
  } else {
    const { joint, autoLeave } = enterJoint(cc);
    result = joint ? changer.enterJoint(autoLeave, cc.changes) : changer.simple(cc.changes);
  }
  return switchToConfig(r, result.config, result.progress);
}

/**
 * Installs a new configuration. A leader may commit more (quorums changed) and must start
 * replicating to new peers; a leader that is no longer a voter hands off and steps down.
 */
export function switchToConfig(r: Raft, config: TrackerConfig, progress: ProgressMap): ConfState {
  r.trk.config = config;
  r.trk.progress = progress;
  const cs = r.trk.confState();
  const self = progress.get(r.id);
  r.isLearner = self !== undefined && self.isLearner;
  r.inConfig = self !== undefined;

  if (r.state !== StateType.Leader) return cs;
  if (cs.voters.length === 0) return cs; // only while restoring an empty config
  if (isRemovedLeader(r)) {
    r.maybeCommit();
    handOffLeadership(r);
    return cs;
  }
  if (r.maybeCommit()) {
    bcastAppend(r);
  } else {
    // Newly added peers need to be probed right away.
    r.trk.visit((id) => {
      if (id !== r.id) maybeSendAppend(r, id, false);
    });
  }
  if (r.leadTransferee !== NONE && !r.trk.config.voters.incoming.has(r.leadTransferee)) r.abortLeaderTransfer();
  return cs;
}

/**
 * Leader with autoLeave: once the joint configuration is applied, propose leaving it.
 * Called as the application reports progress in applying (after it applied the conf changes).
 */
export function maybeAutoLeaveJoint(r: Raft, newApplied: number): void {
  if (!r.trk.config.autoLeave || r.state !== StateType.Leader) return;
  // pendingConfIndex is the joint entry (or, for a new leader, its log tail): wait until applied.
  if (newApplied < r.pendingConfIndex) return;
  const data = encodeConfChangeV2({ transition: ConfChangeTransition.Auto, changes: [] });
  const appended = r.appendEntry([{ term: 0, index: 0, type: EntryType.ConfChangeV2, data }]);
  invariant(appended, 'could not append the entry leaving the joint configuration');
  r.pendingConfIndex = r.raftLog.lastIndex();
  r.logger.info(`${r.id.toString(16)} initiating automatic transition out of joint configuration`);
  bcastAppend(r);
}
