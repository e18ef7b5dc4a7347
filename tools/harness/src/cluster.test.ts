import { startCluster } from './cluster';
import { runCommand } from './processes';

// Referee check: the launcher starts REAL etcd (Debian's etcd-server) as a 3-member
// cluster, the same way Keel's cluster tests start bin/member.
describe('startCluster with real etcd', () => {
  it('starts a 3-member cluster that elects a leader and serves writes', async () => {
    const cluster = await startCluster({ command: 'etcd', size: 3 });
    try {
      const endpoints = cluster.endpoints.join(',');
      const put = await runCommand('etcdctl', ['--endpoints', endpoints, 'put', 'k', 'v'], { env: { ...process.env, ETCDCTL_API: '3' } });
      expect(put.stdout.trim()).toBe('OK');
      const list = await runCommand('etcdctl', ['--endpoints', endpoints, 'member', 'list'], { env: { ...process.env, ETCDCTL_API: '3' } });
      expect(list.stdout.trim().split('\n')).toHaveLength(3);
      await cluster.stopMember(0);
      const get = await runCommand('etcdctl', ['--endpoints', cluster.endpoints.slice(1).join(','), 'get', 'k', '--print-value-only'], {
        env: { ...process.env, ETCDCTL_API: '3' },
      });
      expect(get.stdout.trim()).toBe('v');
    } finally {
      await cluster.destroy();
    }
  }, 60000);
});
