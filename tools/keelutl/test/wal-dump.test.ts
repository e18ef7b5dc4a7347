import fs from 'node:fs';
import path from 'node:path';
import { binPath, makeTempDir, removeTempDir, runCommand } from '@keel/harness';
import { internal } from '@keel/proto';
import { ConfChangeType, encodeConfChange, encodeConfChangeV2, ConfChangeTransition } from '@keel/raft';
import { Wal, walDirOf, type WalEntry } from '@keel/wal';
import { dumpWal } from '../src/wal-dump';
import { formatFields, protoFieldName } from '../src/wal-dump-proto';
import { defaultDecoders } from '../src/wal-dump-decoders';

const MEMBER_ID = 0x8e9e05c52164694dn;
const CLUSTER_ID = 0xcdf818194e3a8c32n;

function put(id: bigint, key: string, value: string): Uint8Array {
  return internal.InternalRaftRequest.encode({
    header: { id, username: '', authRevision: 0n },
    request: {
      $case: 'put',
      value: {
        key: Buffer.from(key),
        value: Buffer.from(value),
        lease: 0n,
        prevKv: false,
        ignoreValue: false,
        ignoreLease: false,
      },
    },
  }).finish();
}

let dataDir: string;

beforeAll(async () => {
  dataDir = makeTempDir('keel-keelutl-');
  const wal = await Wal.create(walDirOf(dataDir), { memberId: MEMBER_ID, clusterId: CLUSTER_ID });
  const entries: WalEntry[] = [
    { term: 1, index: 1, type: 1, data: encodeConfChange({ type: ConfChangeType.AddNode, nodeId: MEMBER_ID }) },
    { term: 2, index: 2, type: 0, data: new Uint8Array(0) },
    { term: 2, index: 3, type: 0, data: put(7n, 'foo', 'bar') },
    { term: 2, index: 4, type: 0, data: Uint8Array.of(0xff, 0x00, 0x41) },
  ];
  await wal.append({ term: 2, vote: MEMBER_ID, commit: 4 }, entries);
  await wal.saveSnapshotMarker({ index: 2, term: 2 });
  const v2 = encodeConfChangeV2({
    transition: ConfChangeTransition.Auto,
    changes: [{ type: ConfChangeType.AddLearnerNode, nodeId: 0x1234n }],
  });
  await wal.append({ term: 2, vote: MEMBER_ID, commit: 5 }, [{ term: 2, index: 5, type: 2, data: v2 }]);
  await wal.close();
});

afterAll(() => removeTempDir(dataDir));

describe('wal dump', () => {
  it('prints the snapshot, metadata and every entry after the latest snapshot marker', async () => {
    const lines = await dumpWal(dataDir);
    expect(lines.slice(0, 8)).toEqual([
      'Snapshot:',
      'term=2 index=2',
      'Start dumping log entries from snapshot.',
      'WAL metadata:',
      'nodeID=8e9e05c52164694d clusterID=cdf818194e3a8c32 term=2 commitIndex=5 vote=8e9e05c52164694d',
      'WAL entries:',
      'lastIndex=5',
      'term\t     index\ttype\tdata',
    ]);
    expect(lines.slice(8)).toEqual([
      '   2\t         3\tnorm\theader:<id:7 > put:<key:"foo" value:"bar" >',
      '   2\t         4\tnorm\t??? "\\xff\\x00A"',
      '   2\t         5\tconf2\ttransition=Auto changes=[ConfChangeAddLearnerNode id=1234]',
      '',
      'Entry types () count is : 3',
    ]);
  });

  it('starts at --start-index and filters by entry type', async () => {
    const lines = await dumpWal(dataDir, { startIndex: 1, entryTypes: ['ConfigChange'] });
    expect(lines[0]).toBe('Start dumping log entries from index 1.');
    expect(lines.filter((l) => /^\s+\d+\t\s+\d+\t/.test(l))).toEqual([
      '   1\t         1\tconf\tmethod=ConfChangeAddNode id=8e9e05c52164694d',
      '   2\t         5\tconf2\ttransition=Auto changes=[ConfChangeAddLearnerNode id=1234]',
    ]);
  });

  it('falls back to escaped raw bytes with the default decoders', async () => {
    const lines = await dumpWal(dataDir, { startIndex: 3, decoders: defaultDecoders });
    expect(lines).toContain('   2\t         4\tnorm\t"\\xff\\x00A"');
    expect(lines.find((l) => l.includes('\t3\t') || /\s3\tnorm/.test(l))).toMatch(/norm\t".*foo.*bar"$/);
  });

  it('runs as `bin/keelutl wal dump <data-dir>`', async () => {
    const result = await runCommand(binPath('keelutl'), ['wal', 'dump', dataDir], { timeoutMs: 120_000 });
    expect(result.stderr).not.toMatch(/keelutl:/);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('nodeID=8e9e05c52164694d clusterID=cdf818194e3a8c32');
    expect(result.stdout).toContain('put:<key:"foo" value:"bar" >');
    const usage = await runCommand(binPath('keelutl'), ['wal'], { timeoutMs: 60_000 });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('wal dump');
  }, 180_000);

  it('reports a missing WAL', async () => {
    await expect(dumpWal(path.join(dataDir, 'nope'))).rejects.toThrow();
  });
});

describe('wal dump of a damaged WAL', () => {
  let damagedDir: string;
  let segmentFile: string;

  beforeEach(async () => {
    damagedDir = makeTempDir('keel-keelutl-damaged-');
    const wal = await Wal.create(walDirOf(damagedDir), { memberId: 1n, clusterId: 2n }, { segmentBytes: 8192 });
    const data = new Uint8Array(100).fill(0x41);
    await wal.append(null, [1, 2, 3, 4].map((index) => ({ term: 1, index, type: 0, data })));
    await wal.close();
    segmentFile = path.join(walDirOf(damagedDir), '0000000000000000-0000000000000000.wal');
  });
  afterEach(() => removeTempDir(damagedDir));

  it('notes a torn tail instead of failing', async () => {
    const bytes = fs.readFileSync(segmentFile);
    fs.writeFileSync(segmentFile, bytes.subarray(0, bytes.indexOf(0x41, 300) + 10)); // cut inside an entry's data
    const lines = await dumpWal(damagedDir);
    expect(lines.some((l) => /^note: torn tail in 0000000000000000-0000000000000000\.wal at byte offset \d+/.test(l))).toBe(true);
  });

  it('exits non-zero naming the file and offset of corruption in the middle', async () => {
    const bytes = fs.readFileSync(segmentFile);
    const at = bytes.indexOf(0x41) + 50; // inside entry 1's data
    bytes[at] = 0x42;
    fs.writeFileSync(segmentFile, bytes);
    const result = await runCommand(binPath('keelutl'), ['wal', 'dump', damagedDir], { timeoutMs: 120_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/corrupt record in 0000000000000000-0000000000000000\.wal at byte offset \d+/);
  }, 180_000);
});

describe('request text as etcd-dump-logs prints it (gogo compact text)', () => {
  it('uses the .proto field names, including the all-capital ones etcd keeps', () => {
    expect(['ID', 'TTL', 'rangeEnd', 'prevKv', 'remainingTTL', 'peerURLs', 'leaseGrant', 'authRevision'].map(protoFieldName)).toEqual([
      'ID',
      'TTL',
      'range_end',
      'prev_kv',
      'remaining_TTL',
      'peerURLs',
      'lease_grant',
      'auth_revision',
    ]);
    const grant = internal.InternalRaftRequest.fromPartial({
      header: { id: 9n },
      request: { $case: 'leaseGrant', value: { TTL: 60n, ID: 7587869180598460931n } },
    });
    expect(formatFields(grant as unknown as Record<string, unknown>)).toBe('header:<id:9 > lease_grant:<TTL:60 ID:7587869180598460931 >');
    const range = internal.InternalRaftRequest.fromPartial({
      request: { $case: 'deleteRange', value: { key: Buffer.from('a'), rangeEnd: Buffer.from([0]), prevKv: true } },
    });
    expect(formatFields(range as unknown as Record<string, unknown>)).toBe('delete_range:<key:"a" range_end:"\\000" prev_kv:true >');
  });
});
