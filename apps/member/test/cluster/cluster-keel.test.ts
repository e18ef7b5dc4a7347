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
});
