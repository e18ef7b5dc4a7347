// Growing a cluster the etcd way: `etcdctl member add --learner`, start the new member with
// --initial-cluster-state=existing, let it catch up from the leader's log, then promote it.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { freePorts, killAll, removeTempDirs } from '@keel/harness';
import { etcdctl, etcdctlOk, eventually, startMember } from './support';

jest.setTimeout(60_000);

afterAll(async () => {
  await killAll();
  removeTempDirs();
});

it('adds a learner that joins, catches up, and is promoted to a voter', async () => {
  const [c1, p1, c2, p2] = await freePorts(4);
  const first = await startMember({ name: 'j1', clientPort: c1, peerPort: p1 });
  const ep1 = `127.0.0.1:${c1}`;
  const ep2 = `127.0.0.1:${c2}`;
  await eventually(() => etcdctlOk(ep1, ['put', 'before-join', 'yes']), 30_000, 200);

  const added = await etcdctlOk(ep1, ['member', 'add', 'j2', `--peer-urls=http://127.0.0.1:${p2}`, '--learner']);
  const id = /Member +([0-9a-f]+) added/.exec(added)![1]!;
  const initialCluster = /ETCD_INITIAL_CLUSTER="([^"]+)"/.exec(added)![1]!;
  await startMember({ name: 'j2', clientPort: c2, peerPort: p2, initialCluster, initialClusterState: 'existing' });

  await eventually(
    async () => expect(await etcdctlOk(ep2, ['get', 'before-join', '--print-value-only', '--consistency=s'])).toBe('yes\n'),
    20_000,
    200,
  );
  await eventually(async () => {
    const promoted = await etcdctl(ep1, ['member', 'promote', id]);
    expect(promoted.stdout).toMatch(new RegExp(`^Member +${id} promoted in cluster`)); // IDs print as %16x
  });
  // The new member publishes its name and client URLs through raft once it knows the leader.
  await eventually(async () =>
    expect(await etcdctlOk(ep1, ['member', 'list'])).toContain(
      `${id}, started, j2, http://127.0.0.1:${p2}, http://127.0.0.1:${c2}, false`,
    ),
  );

  // Both voters now take part in every commit; a write through the new member is seen by the first.
  await eventually(() => etcdctlOk(ep2, ['put', 'after-promote', 'ok']), 20_000, 200);
  expect(await etcdctlOk(ep1, ['get', 'after-promote', '--print-value-only'])).toBe('ok\n');
  await first.process.kill();
});

it('sends a snapshot to a new member when the leader has compacted its log, and the member installs it', async () => {
  const [c1, p1, c2, p2] = await freePorts(4);
  const args = ['--snapshot-count=5'];
  await startMember({ name: 's1', clientPort: c1, peerPort: p1, extraArgs: args });
  const ep1 = `127.0.0.1:${c1}`;
  const ep2 = `127.0.0.1:${c2}`;
  await eventually(() => etcdctlOk(ep1, ['put', 'warmup', '1']), 30_000, 200);
  for (let i = 0; i < 40; i++) await etcdctlOk(ep1, ['put', `old/${i}`, String(i)]);
  const lease = /lease ([0-9a-f]+) granted/.exec(await etcdctlOk(ep1, ['lease', 'grant', '600']))![1]!;
  await etcdctlOk(ep1, ['put', 'leased', 'v', `--lease=${lease}`]);
  for (let i = 0; i < 10; i++) await etcdctlOk(ep1, ['put', `more/${i}`, String(i)]);

  const added = await etcdctlOk(ep1, ['member', 'add', 's2', `--peer-urls=http://127.0.0.1:${p2}`, '--learner']);
  const id = /Member +([0-9a-f]+) added/.exec(added)![1]!;
  const initialCluster = /ETCD_INITIAL_CLUSTER="([^"]+)"/.exec(added)![1]!;
  let second = await startMember({
    name: 's2',
    clientPort: c2,
    peerPort: p2,
    initialCluster,
    initialClusterState: 'existing',
    extraArgs: [...args, '--log-level=info'],
  });
  const countOld = async () =>
    (await etcdctlOk(ep2, ['get', 'old/', '--prefix', '--keys-only', '--consistency=s'])).split('\n').filter((l) => l !== '')
      .length;
  await eventually(async () => expect(await countOld()).toBe(40), 30_000, 200);
  expect(second.process.output()).toContain('installed snapshot from the leader');
  expect(await etcdctlOk(ep2, ['get', 'leased', '-w', 'json', '--consistency=s'])).toContain(
    `"lease":${BigInt(`0x${lease}`).toString()}`,
  );

  // The installed state survives a crash of the new member.
  await second.process.kill('SIGKILL');
  second = await startMember({
    name: 's2',
    clientPort: c2,
    peerPort: p2,
    initialCluster,
    initialClusterState: 'existing',
    extraArgs: args,
    dataDir: second.dataDir,
  });
  await eventually(async () => expect(await countOld()).toBe(40), 30_000, 200);
  await eventually(async () => expect((await etcdctl(ep1, ['member', 'promote', id])).stdout).toContain('promoted'));
  await eventually(() => etcdctlOk(ep2, ['put', 'after-snapshot', 'ok']), 20_000, 200);
  expect(await etcdctlOk(ep1, ['get', 'after-snapshot', '--print-value-only'])).toBe('ok\n');
});
