// The same cluster acceptance scenarios against Keel's bin/member (expectations proven on
// real etcd by cluster-etcd.test.ts).
// Test-only use of the workspace test harness (a tool project).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { binPath } from '@keel/harness';
import { defineClusterScenarios } from './scenarios';

defineClusterScenarios({
  label: 'keel',
  command: binPath('member'),
  // Keel documents no smaller raft-log catch-up window than etcd's, and no snapshot log line.
  snapshotCatchUpEntries: 5000,
  knownGaps: {
    // A removed member stops once it applies its own removal; a follower cut off before the
    // commit reaches it never learns it (etcd's peers refuse it and it stops on that).
    'removed member exits': 'a removed follower that never applies its own removal keeps running',
  },
});
