// Expected bytes below were read out of a snapshot real etcd 3.4.23 wrote (with
// libs/bbolt/test/go/check.go) for: put a 1; put b 2; lease grant 100; put c 3 --lease; put a 11; del b.
import { etcdserverpb } from '@keel/proto';
import { alarmKey, keyValueRecord, leaseRecord, memberKey, memberRecord, revisionKey } from './etcd-encoding';

const hex = (b: Buffer) => b.toString('hex');
const kv = (key: string, createRevision: number, modRevision: number, version: number, value: string, lease = 0n) => ({
  key: Buffer.from(key),
  createRevision,
  modRevision,
  version,
  value: Buffer.from(value),
  lease,
});

describe('etcd backend encodings', () => {
  it('revision keys: main, "_", sub, and "t" for a delete', () => {
    expect(hex(revisionKey(2, 0, false))).toBe('00000000000000025f0000000000000000');
    expect(hex(revisionKey(6, 0, true))).toBe('00000000000000065f000000000000000074');
    expect(hex(revisionKey(0x0102030405, 7, false))).toBe('00000001020304055f0000000000000007');
  });

  it('mvccpb.KeyValue records as etcd stores them', () => {
    expect(hex(keyValueRecord(kv('a', 2, 2, 1, '1'), false))).toBe('0a01611002180220012a0131');
    expect(hex(keyValueRecord(kv('a', 2, 5, 2, '11'), false))).toBe('0a01611002180520022a023131');
    expect(hex(keyValueRecord(kv('c', 4, 4, 1, '3', 0x390da20c55f1e907n), false))).toBe('0a01631004180420012a01333087d2c7afc5c1e88639');
    // A delete stores the key alone.
    expect(hex(keyValueRecord(kv('b', 3, 6, 1, '2'), true))).toBe('0a0162');
  });

  it('leasepb.Lease records', () => {
    expect(hex(leaseRecord(0x390da20c55f1e907n, 100, 0))).toBe('0887d2c7afc5c1e886391064');
    expect(hex(leaseRecord(1n, 60, 30))).toBe('0801103c181e');
  });

  it('members: hex ID key and the JSON of etcd\'s Member', () => {
    const member = { id: 13668033151171901709n, name: 'default', peerUrls: ['http://127.0.0.1:23801'], clientUrls: ['http://127.0.0.1:23791'], isLearner: false };
    expect(memberKey(member.id).toString()).toBe('bdae9bbc11dd390d');
    expect(memberKey(0xabcn).toString()).toBe('abc');
    expect(memberRecord(member).toString()).toBe(
      '{"id":13668033151171901709,"peerURLs":["http://127.0.0.1:23801"],"name":"default","clientURLs":["http://127.0.0.1:23791"]}',
    );
    // A learner that has not published its name yet: isLearner set, empty name and client URLs left out.
    expect(memberRecord({ ...member, name: '', clientUrls: [], isLearner: true, peerUrls: ['http://h/?a=1&b=<x>'] }).toString()).toBe(
      '{"id":13668033151171901709,"peerURLs":["http://h/?a=1\\u0026b=\\u003cx\\u003e"],"isLearner":true}',
    );
  });

  it('alarm keys are the marshalled AlarmMember', () => {
    expect(hex(alarmKey({ memberId: 0x1234n, alarm: etcdserverpb.AlarmType.NOSPACE }))).toBe('08b4241001');
    expect(hex(alarmKey({ memberId: 0xffffffffffffffffn, alarm: etcdserverpb.AlarmType.CORRUPT }))).toBe('08ffffffffffffffffff011002');
  });
});
