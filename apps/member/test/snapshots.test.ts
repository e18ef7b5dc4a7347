// --snapshot-count: the member records raft snapshots as it applies entries and restarts from
// the newest one (replaying only the WAL after it) without losing acknowledged writes.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { killAll, removeTempDirs } from '@keel/harness';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { etcdctlOk, eventually, startMember } from './support';

jest.setTimeout(60_000);

afterAll(async () => {
  await killAll();
  removeTempDirs();
});

it('snapshots every --snapshot-count entries and restarts from the newest snapshot', async () => {
  let member = await startMember({ name: 'snap1', extraArgs: ['--snapshot-count=10'] });
  const ep = member.clientUrl.replace('http://', '');
  await eventually(() => etcdctlOk(ep, ['put', 'warmup', '1']), 30_000, 200);
  for (let i = 0; i < 35; i++) await etcdctlOk(ep, ['put', `s/${i}`, String(i)]);
  const snapDir = path.join(member.dataDir, 'member', 'snap');
  const snaps = await eventually(async () => {
    const files = readdirSync(snapDir).filter((f) => f.endsWith('.snap'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    return files;
  });
  const newestIndex = Math.max(...snaps.map((f) => parseInt(f.split('-')[1]!.replace('.snap', ''), 16)));
  expect(newestIndex).toBeGreaterThanOrEqual(30);

  await member.process.kill('SIGKILL');
  member = await startMember({
    name: 'snap1',
    dataDir: member.dataDir,
    clientPort: Number(new URL(member.clientUrl).port),
    peerPort: Number(new URL(member.peerUrl).port),
    extraArgs: ['--snapshot-count=10'],
  });
  const keys = await eventually(() => etcdctlOk(ep, ['get', 's/', '--prefix', '--keys-only']), 30_000, 200);
  expect(keys.split('\n').filter((l) => l !== '')).toHaveLength(35);
  await etcdctlOk(ep, ['put', 'after', 'snapshot-restart']);
  expect(await etcdctlOk(ep, ['get', 'after', '--print-value-only'])).toBe('snapshot-restart\n');
  const status = JSON.parse(await etcdctlOk(ep, ['endpoint', 'status', '-w', 'json']))[0].Status;
  expect(status.raftAppliedIndex).toBe(status.raftIndex);
});
