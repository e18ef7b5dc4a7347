// Real etcdctl against bin/member: Watch, Lease, Maintenance, Cluster services and the quota.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { killAll, removeTempDirs, startProcess } from '@keel/harness';
import { statSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { etcdctl, etcdctlOk, eventually, startMember, type RunningMember } from './support';

jest.setTimeout(60_000);

let member: RunningMember;
let ep: string;

beforeAll(async () => {
  member = await startMember({ name: 'svc1' });
  ep = member.clientUrl.replace('http://', '');
  await eventually(() => etcdctlOk(ep, ['put', 'warmup', '1']), 30_000, 200);
});

afterAll(async () => {
  await killAll();
  removeTempDirs();
});

/** Runs `etcdctl watch ...` in the background and returns what it printed once stopped. */
function backgroundWatch(args: string[]): { stop(): Promise<string> } {
  const proc = startProcess('etcdctl', [`--endpoints=${ep}`, 'watch', ...args], {
    env: { ...process.env, ETCDCTL_API: '3' },
  });
  return {
    async stop() {
      await proc.kill('SIGTERM');
      return proc.output();
    },
  };
}

describe('Watch', () => {
  it('streams puts and deletes with previous values to etcdctl watch --prefix --prev-kv', async () => {
    const watch = backgroundWatch(['w/', '--prefix', '--prev-kv']);
    await new Promise((r) => setTimeout(r, 500));
    await etcdctlOk(ep, ['put', 'w/1', 'a']);
    await etcdctlOk(ep, ['put', 'w/1', 'b']);
    await etcdctlOk(ep, ['del', 'w/1']);
    await new Promise((r) => setTimeout(r, 300));
    const out = await watch.stop();
    expect(out).toContain('PUT\nw/1\na\nPUT\nw/1\na\nw/1\nb\nDELETE\nw/1\nb\nw/1\n');
  });

  it('replays history from a start revision', async () => {
    const first = JSON.parse(await etcdctlOk(ep, ['put', 'h/1', 'x', '-w', 'json'])).header.revision as number;
    await etcdctlOk(ep, ['put', 'h/2', 'y']);
    const watch = backgroundWatch(['h/', '--prefix', `--rev=${first}`]);
    await new Promise((r) => setTimeout(r, 800));
    expect(await watch.stop()).toContain('PUT\nh/1\nx\nPUT\nh/2\ny\n');
  });
});

describe('Lease', () => {
  it('grants, attaches keys, reports time-to-live and lists leases', async () => {
    const granted = await etcdctlOk(ep, ['lease', 'grant', '100']);
    const id = /^lease ([0-9a-f]+) granted with TTL\(100s\)\n$/.exec(granted)?.[1];
    expect(id).toBeDefined();
    await etcdctlOk(ep, ['put', 'lk', 'v', `--lease=${id}`]);
    expect(await etcdctlOk(ep, ['lease', 'timetolive', id!, '--keys'])).toMatch(
      new RegExp(`^lease ${id} granted with TTL\\(100s\\), remaining\\((99|100)s\\), attached keys\\(\\[lk\\]\\)\n$`),
    );
    expect(await etcdctlOk(ep, ['lease', 'list'])).toContain(id!);
    expect(await etcdctlOk(ep, ['lease', 'keep-alive', '--once', id!])).toBe(`lease ${id} keepalived with TTL(100)\n`);
    expect(await etcdctlOk(ep, ['lease', 'revoke', id!])).toBe(`lease ${id} revoked\n`);
    expect(await etcdctlOk(ep, ['get', 'lk'])).toBe('');
    expect(await etcdctlOk(ep, ['lease', 'timetolive', id!])).toBe(`lease ${id} already expired\n`);
    const again = await etcdctl(ep, ['lease', 'revoke', id!]);
    expect(again.stderr).toContain('etcdserver: requested lease not found');
  });

  it('expires a lease on the leader and deletes its keys', async () => {
    const id = /lease ([0-9a-f]+) granted/.exec(await etcdctlOk(ep, ['lease', 'grant', '1']))![1]!;
    await etcdctlOk(ep, ['put', 'short', 'lived', `--lease=${id}`]);
    expect(await etcdctlOk(ep, ['get', 'short', '--print-value-only'])).toBe('lived\n');
    await eventually(async () => expect(await etcdctlOk(ep, ['get', 'short'])).toBe(''), 10_000, 200);
  });

  it('refuses a put on an unknown lease with etcd error text', async () => {
    const result = await etcdctl(ep, ['put', 'k', 'v', '--lease=123abc']);
    expect(result.stderr).toContain('etcdserver: requested lease not found');
  });
});

describe('Maintenance', () => {
  it('streams a snapshot that etcdctl snapshot save accepts (512·k + 32 bytes, SHA-256 trailer)', async () => {
    const file = path.join(member.dataDir, '..', `snap-${process.pid}.db`);
    const out = await etcdctl(ep, ['snapshot', 'save', file]);
    expect(out.stdout).toContain(`Snapshot saved at ${file}`);
    const size = statSync(file).size;
    expect((size - 32) % 512).toBe(0);
    const bytes = readFileSync(file);
    const digest = createHash('sha256').update(bytes.subarray(0, size - 32)).digest();
    expect(digest.equals(bytes.subarray(size - 32))).toBe(true);
  });

  it('reports status, hashes and defragments', async () => {
    expect(await etcdctlOk(ep, ['endpoint', 'status'])).toMatch(/^[0-9.:]+, [0-9a-f]+, 3\.4\.23, [0-9.]+ [kMG]?B, true, false, \d+, \d+, \d+, \n$/);
    const hash = JSON.parse(await etcdctlOk(ep, ['endpoint', 'hashkv', '-w', 'json']))[0].HashKV;
    expect(hash.hash).toBeGreaterThan(0);
    expect(await etcdctlOk(ep, ['defrag'])).toBe(`Finished defragmenting etcd member[${ep}]\n`);
    const move = await etcdctl(ep, ['move-leader', '1234']);
    expect(move.stderr).toContain('etcdserver: bad leader transferee');
  });
});

describe('Cluster', () => {
  it('adds a learner, refuses to promote it while it lags, and removes it', async () => {
    const added = await etcdctlOk(ep, ['member', 'add', 'learner1', '--peer-urls=http://127.0.0.1:1', '--learner']);
    const id = /^Member +([0-9a-f]+) added to cluster +[0-9a-f]+/.exec(added)?.[1];
    expect(id).toBeDefined();
    expect(added).toContain('ETCD_INITIAL_CLUSTER_STATE="existing"');
    const list = await etcdctlOk(ep, ['member', 'list']);
    expect(list).toContain(`${id}, unstarted, , http://127.0.0.1:1, , true`);
    const promote = await etcdctl(ep, ['member', 'promote', id!]);
    expect(promote.stderr).toContain('etcdserver: can only promote a learner member which is in sync with leader');
    const second = await etcdctl(ep, ['member', 'add', 'learner2', '--peer-urls=http://127.0.0.1:2', '--learner']);
    expect(second.stderr).toContain('etcdserver: too many learner members in cluster');
    const dup = await etcdctl(ep, ['member', 'add', 'dup', '--peer-urls=http://127.0.0.1:1']);
    expect(dup.stderr).toContain('etcdserver: Peer URLs already exists');
    expect(await etcdctlOk(ep, ['member', 'remove', id!])).toMatch(new RegExp(`^Member +${id} removed from cluster`));
    expect(await etcdctlOk(ep, ['member', 'list'])).not.toContain(id!);
    const gone = await etcdctl(ep, ['member', 'remove', id!]);
    expect(gone.stderr).toContain('etcdserver: member not found');
  });
});

describe('Election, Lock and the JSON gateway', () => {
  it('runs a command under etcdctl lock and answers grpc-gateway JSON on the client port', async () => {
    expect(await etcdctlOk(ep, ['lock', 'the-lock', 'echo', 'locked'])).toBe('locked\n');
    await etcdctlOk(ep, ['put', 'gw', 'json']);
    const response = await fetch(`${member.clientUrl}/v3/kv/range`, {
      method: 'POST',
      body: JSON.stringify({ key: Buffer.from('gw').toString('base64') }),
    });
    const body = (await response.json()) as { kvs: Array<{ value: string }>; header: { revision: string } };
    expect(Buffer.from(body.kvs[0]!.value, 'base64').toString()).toBe('json');
    expect(typeof body.header.revision).toBe('string');
  });
});

describe('Request limits', () => {
  it('refuses requests over --max-request-bytes and txns over --max-txn-ops with etcd error text', async () => {
    const limited = await startMember({ name: 'limits1', extraArgs: ['--max-request-bytes=1024', '--max-txn-ops=2'] });
    const lep = limited.clientUrl.replace('http://', '');
    await eventually(() => etcdctlOk(lep, ['put', 'warmup', '1']), 30_000, 200);
    const big = await etcdctl(lep, ['put', 'big', 'x'.repeat(2000)]);
    expect(big.stderr).toContain('etcdserver: request is too large');
    const txn = await etcdctl(lep, ['txn'], '\nput a 1\nput b 2\nput c 3\n\n\n');
    expect(txn.stderr).toContain('etcdserver: too many operations in txn request');
    expect(await etcdctlOk(lep, ['txn'], '\nput a 1\nput b 2\n\n\n')).toBe('SUCCESS\n\nOK\n\nOK\n');
    await limited.process.kill();
  });
});

describe('Quota', () => {
  it('raises NOSPACE past --quota-backend-bytes and then accepts only reads and deletes', async () => {
    const small = await startMember({ name: 'quota1', extraArgs: ['--quota-backend-bytes=200000'] });
    const qep = small.clientUrl.replace('http://', '');
    await eventually(() => etcdctlOk(qep, ['put', 'warmup', '1']), 30_000, 200);
    await eventually(
      async () => {
        // Incompressible values, so the database really grows.
        const value = randomBytes(30_000).toString('base64');
        const result = await etcdctl(qep, ['put', `fill-${Date.now()}`, value]);
        expect(result.stderr).toContain('etcdserver: mvcc: database space exceeded');
      },
      30_000,
      50,
    );
    await eventually(async () => expect(await etcdctlOk(qep, ['alarm', 'list'])).toMatch(/alarm:NOSPACE/), 5000, 100);
    expect(await etcdctlOk(qep, ['get', 'warmup', '--print-value-only'])).toBe('1\n');
    expect(await etcdctlOk(qep, ['del', 'warmup'])).toBe('1\n');
    const refused = await etcdctl(qep, ['put', 'tiny', 'x']);
    expect(refused.stderr).toContain('etcdserver: mvcc: database space exceeded');
    await small.process.kill();
  });
});
