// Decodes wire bytes captured from real etcdctl 3.4 and etcd 3.4 (see fixtures/capture.ts)
// with Keel's codecs. Values are checked against what the capture asked for and against
// etcdctl's own `-w json` rendering of the same responses (Go's decoding), and every
// message must re-encode to exactly the captured bytes.
import fs from 'node:fs';
import path from 'node:path';
import { etcdErrors, etcdserverpb, mvccpb, v3electionpb, v3lockpb } from '../src/index';
import type { Fixture } from './fixtures/capture';

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures/etcdctl-3.4.json'), 'utf8')) as Fixture;

interface MethodCodec {
  path: string;
  requestSerialize(value: unknown): Buffer;
  requestDeserialize(bytes: Buffer): unknown;
  responseSerialize(value: unknown): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
}
const methods = new Map<string, MethodCodec>();
for (const service of [
  etcdserverpb.KVService,
  etcdserverpb.WatchService,
  etcdserverpb.LeaseService,
  etcdserverpb.ClusterService,
  etcdserverpb.MaintenanceService,
  etcdserverpb.AuthService,
  v3electionpb.ElectionService,
  v3lockpb.LockService,
]) {
  for (const method of Object.values(service) as unknown as MethodCodec[]) methods.set(method.path, method);
}

function call(step: string) {
  const found = fixture.calls.find((c) => c.step === step);
  if (!found) throw new Error(`fixture has no call for step ${step}`);
  return found;
}
function requests<T>(step: string, decode: (b: Buffer) => T): T[] {
  return call(step).requests.map((h) => decode(Buffer.from(h, 'hex')));
}
function responses<T>(step: string, decode: (b: Buffer) => T): T[] {
  return call(step).responses.map((h) => decode(Buffer.from(h, 'hex')));
}
function only<T>(items: T[]): T {
  expect(items).toHaveLength(1);
  return items[0]!;
}

/** etcdctl's JSON output: untyped by nature, and every field used is asserted on. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type GoJson = any;

/** etcdctl's JSON output, with integers kept exact (IDs exceed 2^53) as decimal strings. */
function goJson(step: string): GoJson {
  const found = fixture.steps.find((s) => s.label === step);
  if (!found) throw new Error(`fixture has no step ${step}`);
  return JSON.parse(found.stdout.replace(/([:[,]\s*)(-?\d+)(?=\s*[,\]}])/g, '$1"$2"'));
}
const b64 = (text: string) => Buffer.from(text, 'base64');
const utf8 = (bytes: Buffer) => bytes.toString('utf8');

function expectHeader(header: etcdserverpb.ResponseHeader | undefined, go: GoJson) {
  expect(header).toBeDefined();
  expect(header!.clusterId).toBe(BigInt(go.cluster_id));
  expect(header!.memberId).toBe(BigInt(go.member_id));
  expect(header!.revision).toBe(BigInt(go.revision ?? 0));
  expect(header!.raftTerm).toBe(BigInt(go.raft_term));
}
function expectKv(kv: mvccpb.KeyValue | undefined, go: GoJson) {
  expect(kv).toBeDefined();
  expect(kv!.key).toEqual(b64(go.key));
  expect(kv!.value).toEqual(b64(go.value ?? ''));
  expect(kv!.createRevision).toBe(BigInt(go.create_revision));
  expect(kv!.modRevision).toBe(BigInt(go.mod_revision));
  expect(kv!.version).toBe(BigInt(go.version));
  expect(kv!.lease).toBe(BigInt(go.lease ?? 0));
}

const leaseId = BigInt(goJson('lease-grant').ID);

describe(`fixtures captured from etcd ${fixture.etcdVersion} / etcdctl ${fixture.etcdctlVersion}`, () => {
  it('covers the expected calls', () => {
    expect(fixture.calls.map((c) => `${c.step} ${c.method}`)).toEqual(
      expect.arrayContaining([
        'put-lease-prevkv /etcdserverpb.KV/Put',
        'get-range-options /etcdserverpb.KV/Range',
        'txn /etcdserverpb.KV/Txn',
        'watch /etcdserverpb.Watch/Watch',
        'lease-grant /etcdserverpb.Lease/LeaseGrant',
        'member-list /etcdserverpb.Cluster/MemberList',
        'endpoint-status /etcdserverpb.Maintenance/Status',
      ]),
    );
  });

  it.each(fixture.calls.map((c, i) => [`${c.step} ${c.method}`, i] as const))(
    're-encodes every message of %s to the captured bytes',
    (_name, index) => {
      const recorded = fixture.calls[index]!;
      const codec = methods.get(recorded.method);
      expect(codec).toBeDefined();
      for (const hex of recorded.requests) {
        expect(codec!.requestSerialize(codec!.requestDeserialize(Buffer.from(hex, 'hex'))).toString('hex')).toBe(hex);
      }
      for (const hex of recorded.responses) {
        expect(codec!.responseSerialize(codec!.responseDeserialize(Buffer.from(hex, 'hex'))).toString('hex')).toBe(hex);
      }
    },
  );

  it('lease grant', () => {
    const request = only(requests('lease-grant', etcdserverpb.LeaseGrantRequest.decode));
    expect(request).toEqual({ TTL: 600n, ID: 0n });
    const response = only(responses('lease-grant', etcdserverpb.LeaseGrantResponse.decode));
    const go = goJson('lease-grant');
    expectHeader(response.header, go);
    expect(response.ID).toBe(leaseId);
    expect(response.TTL).toBe(600n);
  });

  it('put with a lease and prev_kv (no previous value yet)', () => {
    const request = only(requests('put-lease-prevkv', etcdserverpb.PutRequest.decode));
    expect(request).toEqual({
      key: Buffer.from('fixture/foo'),
      value: Buffer.from('bar'),
      lease: leaseId,
      prevKv: true,
      ignoreValue: false,
      ignoreLease: false,
    });
    const response = only(responses('put-lease-prevkv', etcdserverpb.PutResponse.decode));
    expectHeader(response.header, goJson('put-lease-prevkv').header);
    expect(response.prevKv).toBeUndefined();
  });

  it('put returning the previous key-value with its lease', () => {
    const response = only(responses('put-prevkv', etcdserverpb.PutResponse.decode));
    const go = goJson('put-prevkv');
    expectHeader(response.header, go.header);
    expectKv(response.prevKv, go.prev_kv);
    expect(response.prevKv!.lease).toBe(leaseId);
    expect(utf8(response.prevKv!.value)).toBe('bar');
  });

  it('range over a prefix with limit and sort options', () => {
    const request = only(requests('get-range-options', etcdserverpb.RangeRequest.decode));
    expect(utf8(request.key)).toBe('fixture/');
    expect(utf8(request.rangeEnd)).toBe('fixture0');
    expect(request.limit).toBe(2n);
    expect(request.sortOrder).toBe(etcdserverpb.RangeRequest_SortOrder.DESCEND);
    expect(request.sortTarget).toBe(etcdserverpb.RangeRequest_SortTarget.MOD);
    expect(request.serializable).toBe(false);
    const response = only(responses('get-range-options', etcdserverpb.RangeResponse.decode));
    const go = goJson('get-range-options');
    expectHeader(response.header, go.header);
    expect(response.kvs).toHaveLength(2);
    response.kvs.forEach((kv, i) => expectKv(kv, go.kvs[i]));
    expect(response.more).toBe(true);
    expect(response.count).toBe(4n);
  });

  it('range at an old revision, keys only', () => {
    const request = only(requests('get-rev-keys-only', etcdserverpb.RangeRequest.decode));
    expect(request.revision).toBe(2n);
    expect(request.keysOnly).toBe(true);
    const response = only(responses('get-rev-keys-only', etcdserverpb.RangeResponse.decode));
    const kv = only(response.kvs);
    expectKv(kv, goJson('get-rev-keys-only').kvs[0]);
    expect(kv.value).toHaveLength(0);
    expect(kv.modRevision).toBe(2n);
  });

  it('serializable range over an interval', () => {
    const request = only(requests('get-interval-serializable', etcdserverpb.RangeRequest.decode));
    expect([utf8(request.key), utf8(request.rangeEnd), request.serializable]).toEqual(['fixture/b', 'fixture/c', true]);
    const response = only(responses('get-interval-serializable', etcdserverpb.RangeResponse.decode));
    expect(response.kvs.map((kv) => utf8(kv.key))).toEqual(['fixture/bar', 'fixture/baz']);
  });

  it('txn with compares and both branches', () => {
    const request = only(requests('txn', etcdserverpb.TxnRequest.decode));
    const [mod, value] = request.compare;
    expect(mod).toMatchObject({
      target: etcdserverpb.Compare_CompareTarget.MOD,
      result: etcdserverpb.Compare_CompareResult.GREATER,
      key: Buffer.from('fixture/foo'),
      targetUnion: { $case: 'modRevision', value: 0n },
    });
    expect(value).toMatchObject({
      target: etcdserverpb.Compare_CompareTarget.VALUE,
      result: etcdserverpb.Compare_CompareResult.EQUAL,
      targetUnion: { $case: 'value', value: Buffer.from('1') },
    });
    expect(request.success.map((op) => op.request?.$case)).toEqual(['requestPut', 'requestRange']);
    expect(request.failure.map((op) => op.request?.$case)).toEqual(['requestDeleteRange']);
    const response = only(responses('txn', etcdserverpb.TxnResponse.decode));
    const go = goJson('txn');
    expectHeader(response.header, go.header);
    expect(response.succeeded).toBe(true);
    const [put, range] = response.responses;
    expect(put?.response?.$case).toBe('responsePut');
    expect(range?.response?.$case === 'responseRange' && range.response.value.kvs.map((kv) => utf8(kv.value))).toEqual(['baz']);
  });

  it('watch create, then an event with its previous value', () => {
    const request = only(requests('watch', etcdserverpb.WatchRequest.decode));
    expect(request.requestUnion?.$case).toBe('createRequest');
    const create = request.requestUnion!.value as etcdserverpb.WatchCreateRequest;
    expect([utf8(create.key), utf8(create.rangeEnd), create.prevKv]).toEqual(['fixture/', 'fixture0', true]);
    const [created, event] = responses('watch', etcdserverpb.WatchResponse.decode);
    expect(created?.created).toBe(true);
    expect(event?.watchId).toBe(created?.watchId);
    const go = goJson('watch');
    expectHeader(event?.header, go.Header);
    const only_event = only(event!.events);
    expect(only_event.type).toBe(mvccpb.Event_EventType.PUT);
    expectKv(only_event.kv, go.Events[0].kv);
    expectKv(only_event.prevKv, go.Events[0].prev_kv);
    expect(utf8(only_event.kv!.value)).toBe('watched');
  });

  it('lease keep-alive and time-to-live', () => {
    expect(only(requests('lease-keepalive', etcdserverpb.LeaseKeepAliveRequest.decode)).ID).toBe(leaseId);
    const kept = only(responses('lease-keepalive', etcdserverpb.LeaseKeepAliveResponse.decode));
    expect([kept.ID, kept.TTL]).toEqual([leaseId, 600n]);
    expect(only(requests('lease-timetolive', etcdserverpb.LeaseTimeToLiveRequest.decode))).toEqual({ ID: leaseId, keys: true });
    const ttl = only(responses('lease-timetolive', etcdserverpb.LeaseTimeToLiveResponse.decode));
    const go = goJson('lease-timetolive');
    expect([ttl.ID, ttl.TTL, ttl.grantedTTL]).toEqual([BigInt(go.id), BigInt(go.ttl), 600n]);
  });

  it('member list with full 64-bit member IDs', () => {
    const response = only(responses('member-list', etcdserverpb.MemberListResponse.decode));
    const go = goJson('member-list');
    expectHeader(response.header, go.header);
    const member = only(response.members);
    expect(member.ID).toBe(BigInt(go.members[0].ID));
    expect(member.ID).toBe(response.header!.memberId);
    expect([member.name, member.peerURLs, member.clientURLs, member.isLearner]).toEqual([
      'capture',
      go.members[0].peerURLs,
      go.members[0].clientURLs,
      false,
    ]);
  });

  it('status', () => {
    const response = only(responses('endpoint-status', etcdserverpb.StatusResponse.decode));
    const go = goJson('endpoint-status')[0].Status;
    expectHeader(response.header, go.header);
    expect(response.version).toBe(fixture.etcdVersion);
    expect(response.dbSize).toBe(BigInt(go.dbSize));
    expect(response.dbSizeInUse).toBe(BigInt(go.dbSizeInUse));
    expect(response.leader).toBe(response.header!.memberId);
    expect([response.raftIndex, response.raftTerm, response.raftAppliedIndex]).toEqual([
      BigInt(go.raftIndex),
      BigInt(go.raftTerm),
      BigInt(go.raftAppliedIndex),
    ]);
  });

  it('delete range returning previous values', () => {
    const request = only(requests('delete-prevkv', etcdserverpb.DeleteRangeRequest.decode));
    expect(request.prevKv).toBe(true);
    const response = only(responses('delete-prevkv', etcdserverpb.DeleteRangeResponse.decode));
    const go = goJson('delete-prevkv');
    expect(response.deleted).toBe(BigInt(go.deleted));
    response.prevKvs.forEach((kv, i) => expectKv(kv, go.prev_kvs[i]));
  });

  it('compaction', () => {
    expect(only(requests('compact', etcdserverpb.CompactionRequest.decode))).toEqual({ revision: 4n, physical: false });
  });

  it.each([
    ['error-compacted', etcdErrors.Compacted],
    ['error-lease-not-found', etcdErrors.LeaseNotFound],
  ] as const)('%s: real etcd uses the code and text of the error table', (step, expected) => {
    expect(call(step).error).toEqual({ code: expected.code, details: expected.message });
  });
});
