// The cluster acceptance scenarios against REAL etcd 3.4: the referee. If one of these fails,
// the scenario or its expectation is wrong, not Keel.
import { defineClusterScenarios } from './scenarios';

defineClusterScenarios({
  label: 'etcd',
  command: 'etcd',
  snapshotCatchUpEntries: 5000,
  // etcd's rafthttp logs this when a follower has received and stored the leader's snapshot.
  snapshotReceivedLog: /received and saved database snapshot/,
});
