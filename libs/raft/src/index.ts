// Public surface of @keel/raft. Stable: types, errors, storage, RawNode, conf change codec,
// createRandom. Also exported for tests and tooling: the quorum, tracker and confchange modules.
export * from './types';
export * from './errors';
export * from './storage';
export * from './rawnode';
export * from './confchange-codec';
export { createRandom, randomInt } from './random';
export { type Logger, silentLogger } from './logger';
export { entrySize, payloadSize, isLocalMsg, isResponseMsg } from './util';
export { VoteResult, type AckedIndexer } from './quorum/types';
export { majorityCommittedIndex, majorityVoteResult } from './quorum/majority';
export { type JointConfig, jointCommittedIndex, jointVoteResult, isJoint } from './quorum/joint';
export { ConfChangeError, Changer } from './confchange/changer';
export { Progress } from './tracker/progress';
export { Inflights } from './tracker/inflights';
export { ProgressTracker, type TrackerConfig } from './tracker/tracker';
export { Raft } from './core/raft';
