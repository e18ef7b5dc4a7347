// `etcdctl snapshot save` against Keel yields an etcd 3.4 backend (bbolt) file: the same
// command sequence runs against Keel and real etcd; `snapshot status` must agree on revision
// and total keys, and real etcd started on `snapshot restore` of Keel's file must serve the
// same keys, revisions, versions, leases and compaction as Keel.
// Test-only use of the workspace test harness (a tool project).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { binPath, freePorts, killAll, makeTempDir, removeTempDirs, startCluster, type Cluster } from '@keel/harness';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { launchMember } from './cluster/member-process';
import { etcdctl, etcdctlOk, eventually } from './support';

jest.setTimeout(180_000);

interface Target {
  name: string;
  cluster: Cluster;
  endpoint: string;
}

const targets: Target[] = [];
let workDir: string;

beforeAll(async () => {
  workDir = makeTempDir('keel-etcd-snapshot-');
  const [keel, etcd] = await Promise.all([
    startCluster({ command: binPath('member'), size: 1, extraFlags: ['--heartbeat-interval=50', '--election-timeout=500', '--log-level=warn'], startTimeoutMs: 60_000 }),
    startCluster({ command: 'etcd', size: 1 }),
  ]);
  targets.push({ name: 'keel', cluster: keel, endpoint: keel.endpoints[0]! }, { name: 'etcd', cluster: etcd, endpoint: etcd.endpoints[0]! });
  for (const t of targets) await eventually(() => etcdctlOk(t.endpoint, ['put', 'warmup', '0']), 30_000, 200);
});

afterAll(async () => {
  for (const t of targets) await t.cluster.destroy();
  await killAll();
  removeTempDirs();
});

const BULK_TXN = Array.from({ length: 100 }, (_, i) => `put bulk/${String(i).padStart(3, '0')} ${'v'.repeat(100)}-${i}`).join('\n');

/** The command sequence: puts, a lease, deletes, multi-write txns (sub revisions), a big value, a compaction. */
async function runSequence(endpoint: string): Promise<{ lease: string }> {
  const ok = (args: string[], input?: string) => etcdctlOk(endpoint, args, input);
  await ok(['put', 'a', '1']);
  await ok(['put', 'b', '2']);
  const lease = /lease ([0-9a-f]+) granted/.exec(await ok(['lease', 'grant', '600']))![1]!;
  await ok(['put', 'c', '3', `--lease=${lease}`]);
  await ok(['put', 'a', '11']);
  await ok(['del', 'b']);
  await ok(['txn'], `\nput t1 x\nput t2 y\ndel a\n\n\n`);
  await ok(['txn'], `\n${BULK_TXN}\n\n\n`);
  await ok(['put', 'big', 'B'.repeat(20_000)]);
  await ok(['put', 'a', 'again']);
  const revision = Number(JSON.parse(await ok(['get', 'a', '-w', 'json'])).header.revision);
  await ok(['compact', String(revision - 3)]);
  await ok(['put', 'd', '4']);
  await ok(['del', 't1']);
  await ok(['put', 'bulk/007', 'changed']);
  return { lease };
}

interface SnapshotStatus {
  hash: number;
  revision: number;
  totalKey: number;
  totalSize: number;
}

async function saveAndStatus(t: Target): Promise<{ file: string; status: SnapshotStatus }> {
  const file = path.join(workDir, `${t.name}.db`);
  const save = await etcdctl(t.endpoint, ['snapshot', 'save', file]);
  expect({ code: save.code, stdout: save.stdout }).toEqual({ code: 0, stdout: `Snapshot saved at ${file}\n` });
  const status = await etcdctl(t.endpoint, ['snapshot', 'status', file, '-w', 'json']);
  expect(status.stderr).toBe('');
  return { file, status: JSON.parse(status.stdout) as SnapshotStatus };
}

interface GetJson {
  header: { revision: number };
  kvs?: Array<{ key: string; create_revision: number; mod_revision: number; version: number; value: string; lease?: number }>;
}

async function getAll(endpoint: string): Promise<GetJson> {
  return JSON.parse(await etcdctlOk(endpoint, ['get', '', '--prefix', '-w', 'json'])) as GetJson;
}

describe('etcdctl snapshot save against Keel', () => {
  const results = new Map<string, { file: string; status: SnapshotStatus; lease: string }>();

  it('saves a file snapshot status reads at the same revision and key count as etcd', async () => {
    for (const t of targets) {
      const { lease } = await runSequence(t.endpoint);
      results.set(t.name, { ...(await saveAndStatus(t)), lease });
    }
    const keel = results.get('keel')!;
    const etcd = results.get('etcd')!;
    console.log(`snapshot status: keel ${JSON.stringify(keel.status)} etcd ${JSON.stringify(etcd.status)}`);
    expect({ revision: keel.status.revision, totalKey: keel.status.totalKey }).toEqual({
      revision: etcd.status.revision,
      totalKey: etcd.status.totalKey,
    });
    // The saved file is the bbolt file (whole pages) followed by the SHA-256 etcdctl checked.
    expect(keel.status.totalSize % 4096).toBe(0);
    expect(statSync(keel.file).size).toBe(keel.status.totalSize + 32);
    // The temporary file in the data dir is gone once the stream ended.
    const snapDir = path.join(targets[0]!.cluster.members[0]!.dataDir, 'member', 'snap');
    expect(readdirSync(snapDir).filter((n) => n.startsWith('etcd-snapshot-'))).toEqual([]);
  });

  it('streams the same kind of file through the JSON gateway (/v3/maintenance/snapshot)', async () => {
    const keel = results.get('keel');
    expect(keel).toBeDefined();
    const response = await fetch(`http://${targets[0]!.endpoint}/v3/maintenance/snapshot`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(200);
    const lines = (await response.text()).split('\n').filter((l) => l !== '');
    const body = Buffer.concat(lines.map((l) => Buffer.from((JSON.parse(l) as { result: { blob: string } }).result.blob, 'base64')));
    const digest = createHash('sha256').update(body.subarray(0, body.length - 32)).digest();
    expect(digest.equals(body.subarray(body.length - 32))).toBe(true);
    const file = path.join(workDir, 'gateway.db');
    writeFileSync(file, body);
    const status = JSON.parse(await etcdctlOk('127.0.0.1:1', ['snapshot', 'status', file, '-w', 'json'])) as SnapshotStatus;
    // Nothing was written since etcdctl's save: the same state, byte for byte the same contents.
    expect(status).toEqual(keel!.status);
  });

  it('restores into a data dir real etcd starts from and serves what Keel served', async () => {
    const keel = results.get('keel');
    expect(keel).toBeDefined();
    const [clientPort, peerPort] = await freePorts(2);
    const dataDir = path.join(workDir, 'restored.etcd');
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const restore = await etcdctl('127.0.0.1:1', [
      'snapshot', 'restore', keel!.file,
      '--name', 'restored',
      '--data-dir', dataDir,
      '--initial-cluster', `restored=${peerUrl}`,
      '--initial-advertise-peer-urls', peerUrl,
    ]);
    expect(restore.code).toBe(0);
    expect(existsSync(path.join(dataDir, 'member', 'snap', 'db'))).toBe(true);
    const restored = await launchMember({
      command: 'etcd',
      name: 'restored',
      dataDir,
      clientPort: clientPort!,
      listenPeerPort: peerPort!,
      advertisePeerPort: peerPort!,
      initialCluster: `restored=${peerUrl}`,
      initialClusterState: 'new',
      token: 'etcd-cluster',
      extraFlags: [],
    });
    try {
      const endpoint = `127.0.0.1:${clientPort}`;
      const fromEtcd = await eventually(() => getAll(endpoint), 30_000, 200);
      const fromKeel = await getAll(targets[0]!.endpoint);
      expect(fromEtcd.kvs?.length).toBeGreaterThan(100);
      expect(fromEtcd.kvs).toEqual(fromKeel.kvs);
      expect(fromEtcd.header.revision).toBe(fromKeel.header.revision);
      // The lease came along with its ID, and the history below the compaction is gone.
      expect(await etcdctlOk(endpoint, ['lease', 'list'])).toContain(keel!.lease);
      const compacted = await etcdctl(endpoint, ['get', 'a', '--rev=2']);
      expect(compacted.stderr).toContain('required revision has been compacted');
      // History above the compaction is there: the value of 'a' before its last put.
      const before = JSON.parse(await etcdctlOk(endpoint, ['get', 'big', `--rev=${fromEtcd.header.revision - 3}`, '-w', 'json'])) as GetJson;
      expect(before.kvs?.[0]?.version).toBe(1);
    } finally {
      await restored.kill('SIGKILL');
    }
  });

  it('keeps the same keys, revisions and versions as etcd for the same commands', async () => {
    // Lease IDs differ between the two servers; everything else must match.
    const strip = (g: GetJson) => g.kvs?.map(({ lease, ...rest }) => ({ ...rest, leased: lease !== undefined }));
    expect(strip(await getAll(targets[0]!.endpoint))).toEqual(strip(await getAll(targets[1]!.endpoint)));
  });
});
