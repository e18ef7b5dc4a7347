// Three bin/member processes bootstrapped from --initial-cluster, driven by etcdctl: replication,
// leader failover after kill -9, and a restarted member catching up.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { freePorts, killAll, removeTempDirs } from '@keel/harness';
import { etcdctlOk, eventually, startMember, type RunningMember } from './support';

jest.setTimeout(90_000);

const names = ['ka', 'kb', 'kc'];
let ports: number[];
let members: RunningMember[];
let initialCluster: string;

const endpoint = (m: RunningMember) => m.clientUrl.replace('http://', '');

function startNth(i: number, dataDir?: string): Promise<RunningMember> {
  return startMember({
    name: names[i],
    clientPort: ports[2 * i],
    peerPort: ports[2 * i + 1],
    initialCluster,
    dataDir,
    // Small, so the tests below run across several raft snapshots and WAL releases.
    extraArgs: ['--snapshot-count=5'],
  });
}

interface StatusRow {
  Endpoint: string;
  Status: { header: { member_id: number }; leader: number; raftTerm: number; raftIndex: number };
}

async function statuses(list: RunningMember[]): Promise<StatusRow[]> {
  return JSON.parse(await etcdctlOk(list.map(endpoint), ['endpoint', 'status', '-w', 'json'])) as StatusRow[];
}

beforeAll(async () => {
  ports = await freePorts(6);
  initialCluster = names.map((n, i) => `${n}=http://127.0.0.1:${ports[2 * i + 1]}`).join(',');
  members = await Promise.all(names.map((_, i) => startNth(i)));
  await eventually(() => etcdctlOk(endpoint(members[0]!), ['put', 'warmup', '1']), 30_000, 200);
});

afterAll(async () => {
  await killAll();
  removeTempDirs();
});

it('elects one leader that every member agrees on and lists all members', async () => {
  const rows = await eventually(async () => {
    const r = await statuses(members);
    expect(r).toHaveLength(3);
    expect(new Set(r.map((row) => row.Status.leader)).size).toBe(1);
    return r;
  });
  const leader = rows[0]!.Status.leader;
  expect(rows.filter((row) => row.Status.header.member_id === leader)).toHaveLength(1);
  // Client URLs appear once each member has published them through raft.
  await eventually(async () => {
    const list = await etcdctlOk(endpoint(members[1]!), ['member', 'list']);
    for (const [i, name] of names.entries()) {
      expect(list).toContain(`, started, ${name}, http://127.0.0.1:${ports[2 * i + 1]}, http://127.0.0.1:${ports[2 * i]}, false`);
    }
  });
});

it('replicates a write made through one member to linearizable and serializable reads on the others', async () => {
  await etcdctlOk(endpoint(members[1]!), ['put', 'shared', 'v1']);
  expect(await etcdctlOk(endpoint(members[2]!), ['get', 'shared', '--print-value-only'])).toBe('v1\n');
  await eventually(async () =>
    expect(await etcdctlOk(endpoint(members[0]!), ['get', 'shared', '--print-value-only', '--consistency=s'])).toBe('v1\n'),
  );
});

it('serves lease keep-alive and time-to-live on followers by asking the leader', async () => {
  const rows = await statuses(members);
  const leaderId = rows[0]!.Status.leader;
  const follower = members[rows.findIndex((row) => row.Status.header.member_id !== leaderId)]!;
  const granted = await etcdctlOk(endpoint(follower), ['lease', 'grant', '60']);
  const id = /lease ([0-9a-f]+) granted/.exec(granted)![1]!;
  expect(await etcdctlOk(endpoint(follower), ['lease', 'keep-alive', '--once', id])).toBe(`lease ${id} keepalived with TTL(60)\n`);
  expect(await etcdctlOk(endpoint(follower), ['lease', 'timetolive', id])).toMatch(
    new RegExp(`^lease ${id} granted with TTL\\(60s\\), remaining\\((59|60)s\\)\n$`),
  );
});

it('keeps serving after the leader is killed, and the restarted member catches up', async () => {
  const rows = await statuses(members);
  const leaderId = rows[0]!.Status.leader;
  const leaderIndex = rows.findIndex((row) => row.Status.header.member_id === leaderId);
  expect(leaderIndex).toBeGreaterThanOrEqual(0);
  const victim = members[leaderIndex]!;
  await victim.process.kill('SIGKILL');
  const survivors = members.filter((_, i) => i !== leaderIndex);
  await eventually(() => etcdctlOk(endpoint(survivors[0]!), ['put', 'after-failover', 'yes']), 30_000, 200);
  const newRows = await statuses(survivors);
  expect(newRows[0]!.Status.leader).not.toBe(leaderId);
  expect(newRows[0]!.Status.raftTerm).toBeGreaterThan(rows[0]!.Status.raftTerm);

  members[leaderIndex] = await startNth(leaderIndex, victim.dataDir);
  await eventually(
    async () =>
      expect(
        await etcdctlOk(endpoint(members[leaderIndex]!), ['get', 'after-failover', '--print-value-only', '--consistency=s']),
      ).toBe('yes\n'),
    30_000,
    200,
  );
});

it('brings a follower that missed entries across several leader snapshots back up to date', async () => {
  const rows = await statuses(members);
  const leaderId = rows[0]!.Status.leader;
  const index = rows.findIndex((row) => row.Status.header.member_id !== leaderId);
  const follower = members[index]!;
  await follower.process.kill('SIGKILL');
  const leader = members[rows.findIndex((row) => row.Status.header.member_id === leaderId)]!;
  for (let i = 0; i < 30; i++) await etcdctlOk(endpoint(leader), ['put', `missed/${i}`, String(i)]);
  members[index] = await startNth(index, follower.dataDir);
  await eventually(
    async () => {
      const keys = await etcdctlOk(endpoint(members[index]!), ['get', 'missed/', '--prefix', '--keys-only', '--consistency=s']);
      expect(keys.split('\n').filter((l) => l !== '')).toHaveLength(30);
    },
    30_000,
    200,
  );
});
