// Real etcdctl 3.4 against a real bin/member process: the KV service end to end, output
// formats as etcdctl prints them, etcd's error texts, and restart recovery.
// Test-only use of the workspace test harness (a tool project).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { killAll, removeTempDirs } from '@keel/harness';
import { etcdctl, etcdctlOk, eventually, startMember, type RunningMember } from './support';

jest.setTimeout(60_000);

let member: RunningMember;
let ep: string;

interface JsonHeader {
  cluster_id: number;
  member_id: number;
  revision: number;
  raft_term: number;
}
interface JsonKv {
  key: string;
  value?: string;
  create_revision: number;
  mod_revision: number;
  version: number;
  lease?: number;
}
interface JsonRange {
  header: JsonHeader;
  kvs?: JsonKv[];
  count?: number;
  more?: boolean;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

beforeAll(async () => {
  member = await startMember({ name: 'kv1' });
  // host:port as etcdctl users write it ("http://..." endpoints: see the report on :authority).
  ep = member.clientUrl.replace('http://', '');
  await eventually(() => etcdctlOk(ep, ['put', 'warmup', '1']), 30_000, 200);
});

afterAll(async () => {
  await killAll();
  removeTempDirs();
});

describe('etcdctl against bin/member', () => {
  it('put and get print what etcdctl prints for etcd', async () => {
    expect(await etcdctlOk(ep, ['put', 'foo', 'bar'])).toBe('OK\n');
    expect(await etcdctlOk(ep, ['get', 'foo'])).toBe('foo\nbar\n');
    expect(await etcdctlOk(ep, ['put', 'foo', 'bar2', '--prev-kv'])).toBe('OK\nfoo\nbar\n');
    expect(await etcdctlOk(ep, ['get', 'missing'])).toBe('');
  });

  it('reads prefixes, keys only, limits, counts and sorted ranges', async () => {
    for (const [k, v] of [['p/1', 'x'], ['p/2', 'y'], ['p/3', 'z']]) await etcdctlOk(ep, ['put', k!, v!]);
    expect(await etcdctlOk(ep, ['get', 'p/', '--prefix'])).toBe('p/1\nx\np/2\ny\np/3\nz\n');
    expect(await etcdctlOk(ep, ['get', 'p/', '--prefix', '--keys-only'])).toBe('p/1\n\np/2\n\np/3\n\n');
    expect(await etcdctlOk(ep, ['get', 'p/', '--prefix', '--sort-by=KEY', '--order=DESCEND', '--keys-only'])).toBe(
      'p/3\n\np/2\n\np/1\n\n',
    );
    const limited = JSON.parse(await etcdctlOk(ep, ['get', 'p/', '--prefix', '--limit=1', '-w', 'json'])) as JsonRange;
    expect(limited.kvs).toHaveLength(1);
    expect(limited.more).toBe(true);
    expect(limited.count).toBe(3);
    expect(await etcdctlOk(ep, ['get', 'p/1', 'p/3'])).toBe('p/1\nx\np/2\ny\n');
  });

  it('prints JSON with the response header and base64 keys, and reads past revisions', async () => {
    const put = await etcdctlOk(ep, ['put', 'rev-key', 'one', '-w', 'json']);
    const first = (JSON.parse(put) as { header: JsonHeader }).header.revision;
    await etcdctlOk(ep, ['put', 'rev-key', 'two']);
    const now = JSON.parse(await etcdctlOk(ep, ['get', 'rev-key', '-w', 'json'])) as JsonRange;
    expect(now.header.revision).toBe(first + 1);
    expect(now.header.cluster_id).not.toBe(0);
    expect(now.header.member_id).not.toBe(0);
    expect(now.header.raft_term).toBeGreaterThan(0);
    expect(now.kvs).toEqual([
      { key: b64('rev-key'), create_revision: first, mod_revision: first + 1, version: 2, value: b64('two') },
    ]);
    expect(await etcdctlOk(ep, ['get', 'rev-key', `--rev=${first}`, '--print-value-only'])).toBe('one\n');
    const future = await etcdctl(ep, ['get', 'rev-key', `--rev=${first + 1000}`]);
    expect(future.code).not.toBe(0);
    expect(future.stderr).toContain('Error: etcdserver: mvcc: required revision is a future revision');
  });

  it('deletes keys and prefixes, reporting counts and previous values', async () => {
    await etcdctlOk(ep, ['put', 'd/1', 'a']);
    await etcdctlOk(ep, ['put', 'd/2', 'b']);
    expect(await etcdctlOk(ep, ['del', 'd/1'])).toBe('1\n');
    expect(await etcdctlOk(ep, ['del', 'd/', '--prefix', '--prev-kv'])).toBe('1\nd/2\nb\n');
    expect(await etcdctlOk(ep, ['del', 'd/nothing'])).toBe('0\n');
  });

  it('runs txns from stdin, taking the branch the compares choose', async () => {
    await etcdctlOk(ep, ['put', 'tx', 'v1']);
    const hit = await etcdctlOk(ep, ['txn'], 'value("tx") = "v1"\n\nput tx v2\nput tx-side s\n\nget tx\n\n');
    expect(hit).toBe('SUCCESS\n\nOK\n\nOK\n');
    const miss = await etcdctlOk(ep, ['txn'], 'value("tx") = "v1"\n\nput tx v3\n\nget tx\n\n');
    expect(miss).toBe('FAILURE\n\ntx\nv2\n');
    const json = JSON.parse(await etcdctlOk(ep, ['txn', '-w', 'json'], 'mod("tx") > "0"\n\nget tx-side\n\n\n')) as {
      succeeded: boolean;
    };
    expect(json.succeeded).toBe(true);
  });

  it('compacts, then refuses reads below the compacted revision with etcd error text', async () => {
    const first = (JSON.parse(await etcdctlOk(ep, ['put', 'c', '1', '-w', 'json'])) as { header: JsonHeader }).header.revision;
    await etcdctlOk(ep, ['put', 'c', '2']);
    expect(await etcdctlOk(ep, ['compaction', String(first + 1)])).toBe(`compacted revision ${first + 1}\n`);
    const old = await etcdctl(ep, ['get', 'c', `--rev=${first}`]);
    expect(old.stderr).toContain('Error: etcdserver: mvcc: required revision has been compacted');
    const again = await etcdctl(ep, ['compaction', String(first)]);
    expect(again.stderr).toContain('etcdserver: mvcc: required revision has been compacted');
    expect(await etcdctlOk(ep, ['get', 'c', '--print-value-only'])).toBe('2\n');
  });

  it('refuses an empty key with etcd error text', async () => {
    const result = await etcdctl(ep, ['put', '', 'x']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('etcdserver: key is not provided');
  });

  it('reports endpoint status and health', async () => {
    const status = JSON.parse(await etcdctlOk(ep, ['endpoint', 'status', '-w', 'json'])) as Array<{
      Status: { header: JsonHeader; version: string; leader: number; raftIndex: number; raftAppliedIndex: number };
    }>;
    const s = status[0]!.Status;
    expect(s.version).toBe('3.4.23');
    expect(s.leader).toBe(s.header.member_id);
    expect(s.raftAppliedIndex).toBe(s.raftIndex);
    const health = await etcdctl(ep, ['endpoint', 'health']);
    expect(health.code).toBe(0);
    expect(health.stdout + health.stderr).toMatch(/is healthy: successfully committed proposal/);
    const members = JSON.parse(await etcdctlOk(ep, ['member', 'list', '-w', 'json'])) as {
      members: Array<{ name: string; peerURLs: string[]; clientURLs: string[] }>;
    };
    expect(members.members).toEqual([
      expect.objectContaining({ name: 'kv1', peerURLs: [member.peerUrl], clientURLs: [member.clientUrl] }),
    ]);
  });

  it('keeps every acknowledged write across kill -9 and restart', async () => {
    for (let i = 0; i < 10; i++) await etcdctlOk(ep, ['put', `durable/${i}`, `v${i}`]);
    await member.process.kill('SIGKILL');
    member = await startMember({
      name: 'kv1',
      dataDir: member.dataDir,
      clientPort: Number(new URL(member.clientUrl).port),
      peerPort: Number(new URL(member.peerUrl).port),
    });
    const keys = await eventually(() => etcdctlOk(ep, ['get', 'durable/', '--prefix', '--keys-only']), 30_000, 200);
    expect(keys.split('\n').filter((line) => line !== '')).toHaveLength(10);
    expect(await etcdctlOk(ep, ['get', 'foo', '--print-value-only'])).toBe('bar2\n');
    await etcdctlOk(ep, ['put', 'after', 'restart']);
    expect(await etcdctlOk(ep, ['get', 'after', '--print-value-only'])).toBe('restart\n');
  });
});
