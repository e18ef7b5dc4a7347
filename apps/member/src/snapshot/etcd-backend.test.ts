// writeEtcdBackend over a real MvccStore: every etcd bucket is there with etcd's keys, the
// file is one point in time (a write that arrives meanwhile waits and is not in it), and the
// bbolt file passes the structural check.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BoltReader, checkFile } from '@keel/bbolt';
import { KeySpaces, MvccStore, encodeId } from '@keel/mvcc';
import { encodeLeaseRecord } from '../apply/appliers';
import { alarmDbKey } from '../apply/alarms';
import { clusterVersionKey, encodeMember } from '../cluster/membership';
import { writeEtcdBackend } from './etcd-backend';

let dir: string;
let store: MvccStore;
const text = (s: string) => Buffer.from(s);

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keel-etcd-backend-'));
  store = await MvccStore.open(join(dir, 'db'));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function contents(path: string): Promise<Record<string, Array<[string, string]>>> {
  const reader = await BoltReader.open(path);
  const out: Record<string, Array<[string, string]>> = {};
  try {
    for await (const { name, bucket } of reader.buckets()) {
      const entries: Array<[string, string]> = [];
      for await (const e of reader.entries(bucket)) entries.push([e.key.toString('hex'), e.value.toString('hex')]);
      out[name.toString()] = entries;
    }
  } finally {
    await reader.close();
  }
  return out;
}

it('writes every bucket etcd has, keyed and encoded as etcd does', async () => {
  const batch = await store.beginBatch();
  await batch.put({ key: text('a'), value: text('1') });
  batch.rawPut(KeySpaces.leases, encodeId(7n), encodeLeaseRecord(60, 0));
  batch.rawPut(KeySpaces.members, encodeId(0xabcn), encodeMember({ id: 0xabcn, name: 'm1', peerUrls: ['http://p'], clientUrls: ['http://c'], isLearner: false }));
  batch.rawPut(KeySpaces.members, clusterVersionKey, text('3.4.0'));
  batch.rawPut(KeySpaces.alarms, alarmDbKey({ memberId: 0xabcn, alarm: 1 }), Buffer.from([1]));
  await batch.commit({ appliedIndex: 5, term: 2 });
  await store.put({ key: text('b'), value: text('2') }, { appliedIndex: 6, term: 2 });
  await store.deleteRange({ key: text('a') }, { appliedIndex: 7, term: 2 });
  await store.put({ key: text('b'), value: text('3') }, { appliedIndex: 8, term: 2 });
  await store.compact(4, { appliedIndex: 9, term: 2 });

  const path = join(dir, 'snap.db');
  const result = await writeEtcdBackend(store, path, { removedMemberIds: () => [0x10n] });
  expect(result).toMatchObject({ revision: 5, appliedIndex: 9 });
  expect((await checkFile(path)).errors).toEqual([]);
  const buckets = await contents(path);
  expect(Object.keys(buckets)).toEqual(['alarm', 'auth', 'authRoles', 'authUsers', 'cluster', 'key', 'lease', 'members', 'members_removed', 'meta']);
  // Compacted at 4, as etcd compacts: a (put at 2, deleted at 4) is gone with its tombstone;
  // b@3 stays, being b's newest version at 4.
  expect(buckets.key!.map(([k]) => k)).toEqual(['00000000000000035f0000000000000000', '00000000000000055f0000000000000000']);
  expect(buckets.meta).toEqual([
    [text('consistent_index').toString('hex'), '0000000000000009'],
    [text('finishedCompactRev').toString('hex'), '00000000000000045f0000000000000000'],
    [text('scheduledCompactRev').toString('hex'), '00000000000000045f0000000000000000'],
  ]);
  expect(buckets.lease).toEqual([['0000000000000007', '0807103c']]);
  expect(buckets.members).toEqual([[text('abc').toString('hex'), text('{"id":2748,"peerURLs":["http://p"],"name":"m1","clientURLs":["http://c"]}').toString('hex')]]);
  expect(buckets.members_removed).toEqual([[text('10').toString('hex'), text('removed').toString('hex')]]);
  expect(buckets.cluster).toEqual([[text('clusterVersion').toString('hex'), text('3.4.0').toString('hex')]]);
  expect(buckets.alarm).toEqual([['08bc151001', '']]);
  expect(buckets.auth).toEqual([[text('authRevision').toString('hex'), '0000000000000001']]);
});

it('captures one revision without holding up writes that arrive meanwhile', async () => {
  for (let i = 0; i < 2000; i++) await store.put({ key: text(`k${i}`), value: Buffer.alloc(100, i) }, { appliedIndex: i + 1, term: 1 });
  const path = join(dir, 'snap.db');
  const writing = writeEtcdBackend(store, path);
  let writingDone = false;
  void writing.then(() => (writingDone = true));
  // The put is applied while the history is still being streamed into the file.
  await store.put({ key: text('late'), value: text('x') }, { appliedIndex: 5000, term: 1 });
  expect(writingDone).toBe(false);
  const result = await writing;
  expect(result).toMatchObject({ revision: 2001, appliedIndex: 2000 });
  expect(store.currentRevision()).toBe(2002);
  const buckets = await contents(path);
  expect(buckets.key).toHaveLength(2000);
  expect(buckets.key!.at(-1)![0]).toBe('00000000000007d15f0000000000000000');
  expect(buckets.meta).toEqual([[text('consistent_index').toString('hex'), '00000000000007d0']]);
});

it('a compaction during the history scan yields a file of one state, before or after it', async () => {
  // Two rounds over the same 1000 keys; compacting at the end of round two deletes round one.
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 1000; i++) await store.put({ key: text(`k${i}`), value: Buffer.alloc(50, round) }, { appliedIndex: round * 1000 + i + 1, term: 1 });
  }
  const path = join(dir, 'snap.db');
  const writing = writeEtcdBackend(store, path);
  const compaction = store.compact(2001, { appliedIndex: 3000, term: 1 });
  const result = await writing;
  await compaction;
  const buckets = await contents(path);
  expect((await checkFile(path)).errors).toEqual([]);
  const compactedRev = '00000000000007d15f0000000000000000';
  const before = { keys: 2000, meta: [[text('consistent_index').toString('hex'), '00000000000007d0']] };
  const after = {
    keys: 1000,
    meta: [
      [text('consistent_index').toString('hex'), '0000000000000bb8'],
      [text('finishedCompactRev').toString('hex'), compactedRev],
      [text('scheduledCompactRev').toString('hex'), compactedRev],
    ],
  };
  expect([before, after]).toContainEqual({ keys: buckets.key!.length, meta: buckets.meta });
  expect(result.revision).toBe(2001);
});
