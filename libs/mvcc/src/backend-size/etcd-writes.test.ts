// Keel records -> the bbolt writes etcd would make for them.
import { mvccpb } from '@keel/proto';
import { encodeId, encodeU64, KeySpaces, metaDbKey } from '../keyspaces';
import { encodeRecord } from '../kv-codec';
import { encodeRevision } from '../revision';
import { etcdWriteOf } from './etcd-writes';

const kv = (lease: bigint, modRevision: number) => ({
  key: Buffer.from('some/key'),
  createRevision: 3,
  modRevision,
  version: 40,
  lease,
  value: Buffer.alloc(777, 7),
});

describe('etcdWriteOf', () => {
  it.each([
    [0n, 5],
    [0x7fff_ffff_ffff_ffffn, 2 ** 40 + 3],
    [-5n, 300],
  ])('a history put becomes a sequential key-bucket put of the encoded KeyValue (lease %p, rev %p)', (lease, rev) => {
    const record = kv(lease, rev);
    const revisionKey = encodeRevision({ main: rev, sub: 2 });
    const write = etcdWriteOf({ type: 'put', key: KeySpaces.history.key(revisionKey), value: encodeRecord(record, false) });
    const encoded = mvccpb.KeyValue.encode({ ...record, createRevision: 3n, modRevision: BigInt(rev), version: 40n }).finish();
    expect(write).toEqual({ bucket: 'key', key: revisionKey.toString('latin1'), valueBytes: encoded.length, sequential: true });
  });

  it("a tombstone gets etcd's 't' key suffix and a key-only KeyValue", () => {
    const revisionKey = encodeRevision({ main: 9, sub: 0 });
    const write = etcdWriteOf({ type: 'put', key: KeySpaces.history.key(revisionKey), value: encodeRecord(kv(0n, 9), true) });
    expect(write).toEqual({ bucket: 'key', key: revisionKey.toString('latin1') + 't', valueBytes: 2 + 8, sequential: true });
  });

  it("meta keys map to etcd 3.4's names; Keel-only ones have no etcd write", () => {
    const put = (name: Parameters<typeof metaDbKey>[0]) => etcdWriteOf({ type: 'put', key: metaDbKey(name), value: encodeU64(5) });
    expect(put('appliedIndex')).toEqual({ bucket: 'meta', key: 'consistent_index', valueBytes: 8, sequential: false });
    expect(put('scheduledCompactRevision')).toEqual({ bucket: 'meta', key: 'scheduledCompactRev', valueBytes: 17, sequential: false });
    expect(put('finishedCompactRevision')).toEqual({ bucket: 'meta', key: 'finishedCompactRev', valueBytes: 17, sequential: false });
    expect(put('term')).toBeUndefined();
    expect(put('currentRevision')).toBeUndefined();
    expect(put('backendPages')).toBeUndefined();
  });

  it('raw spaces go to the matching etcd buckets; deletes carry no value', () => {
    expect(etcdWriteOf({ type: 'put', key: KeySpaces.leases.key(encodeId(1n)), value: Buffer.alloc(16) })?.bucket).toBe('lease');
    expect(etcdWriteOf({ type: 'put', key: KeySpaces.members.key(encodeId(0xabn)), value: Buffer.alloc(50) })).toEqual({
      bucket: 'members',
      key: '00000000000000ab',
      valueBytes: 50,
      sequential: false,
    });
    expect(etcdWriteOf({ type: 'put', key: KeySpaces.members.key(Buffer.from('cluster_version')), value: Buffer.from('3.4.0') })?.bucket).toBe('cluster');
    expect(etcdWriteOf({ type: 'del', key: KeySpaces.alarms.key(Buffer.alloc(9)) })).toEqual({
      bucket: 'alarm',
      key: Buffer.alloc(9).toString('latin1'),
      valueBytes: undefined,
      sequential: false,
    });
  });
});
