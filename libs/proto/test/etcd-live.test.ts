// Both directions against the real thing:
//  1. grpc-js clients built on Keel's generated service definitions talk to a real etcd
//     3.4: etcd accepts Keel-encoded requests and Keel decodes etcd's answers.
//  2. A grpc-js server built on the same definitions answers the real etcdctl: etcdctl
//     accepts Keel-encoded responses and Keel's error helper produces etcd's errors.
import { execFile } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { etcdErrors, etcdServiceError, etcdserverpb, mvccpb, withFastSerializers } from '../src/index';
import { etcdInstalled, startEtcd, type EtcdProcess } from './support/etcd';

interface UnaryMethod<Req, Res> {
  path: string;
  requestSerialize(value: Req): Buffer;
  responseDeserialize(bytes: Buffer): Res;
}
/** Calls a unary method of a generated service definition; typed by the definition. */
function unary<Req, Res>(client: grpc.Client, method: UnaryMethod<Req, Res>, request: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request, (error, response) =>
      error ? reject(error) : resolve(response!),
    );
  });
}
// Requests go out through the shared-writer serializers; the other services use the
// plain generated ones, so both encoders meet real etcd.
const KV = withFastSerializers(etcdserverpb.KVService, etcdserverpb.KVDefinition);
const { LeaseService: Lease, ClusterService: Cluster, MaintenanceService: Maintenance } = etcdserverpb;
const bytes = (text: string) => Buffer.from(text);

const describeWithEtcd = etcdInstalled() ? describe : describe.skip;

describeWithEtcd('Keel clients against real etcd', () => {
  let etcd: EtcdProcess;
  let kv: etcdserverpb.KVClient;
  let lease: etcdserverpb.LeaseClient;
  let watch: etcdserverpb.WatchClient;
  let cluster: etcdserverpb.ClusterClient;
  let maintenance: etcdserverpb.MaintenanceClient;

  beforeAll(async () => {
    etcd = await startEtcd();
    const credentials = grpc.credentials.createInsecure();
    kv = new etcdserverpb.KVClient(etcd.clientAddress, credentials);
    lease = new etcdserverpb.LeaseClient(etcd.clientAddress, credentials);
    watch = new etcdserverpb.WatchClient(etcd.clientAddress, credentials);
    cluster = new etcdserverpb.ClusterClient(etcd.clientAddress, credentials);
    maintenance = new etcdserverpb.MaintenanceClient(etcd.clientAddress, credentials);
    // The port opens a moment before etcd has elected itself leader; a write waits for it.
    await new Promise<void>((resolve, reject) =>
      kv.waitForReady(Date.now() + 10_000, (error) => (error ? reject(error) : resolve())),
    );
  }, 30_000);

  afterAll(async () => {
    for (const client of [kv, lease, watch, cluster, maintenance]) client?.close();
    await etcd?.stop();
  });

  it('put with a lease and prev_kv, then range with options', async () => {
    const granted = await unary(lease, Lease.leaseGrant, { TTL: 300n, ID: 0n });
    expect(granted.ID).toBeGreaterThan(0n);
    const put = etcdserverpb.PutRequest.fromPartial({ key: bytes('live/a'), value: bytes('1'), lease: granted.ID, prevKv: true });
    const first = await unary(kv, KV.put, put);
    expect(first.prevKv).toBeUndefined();
    const second = await unary(kv, KV.put, { ...put, value: bytes('2') });
    expect(second.prevKv?.value).toEqual(bytes('1'));
    expect(second.prevKv?.lease).toBe(granted.ID);
    expect(second.header!.revision).toBe(first.header!.revision + 1n);
    await unary(kv, KV.put, etcdserverpb.PutRequest.fromPartial({ key: bytes('live/b'), value: bytes('3') }));

    const range = await unary(
      kv,
      KV.range,
      etcdserverpb.RangeRequest.fromPartial({
        key: bytes('live/'),
        rangeEnd: bytes('live0'),
        limit: 1n,
        sortOrder: etcdserverpb.RangeRequest_SortOrder.DESCEND,
        sortTarget: etcdserverpb.RangeRequest_SortTarget.KEY,
      }),
    );
    expect(range.kvs.map((k) => k.key.toString())).toEqual(['live/b']);
    expect([range.more, range.count]).toEqual([true, 2n]);
  });

  it("toJSON matches etcd's own grpc-gateway JSON for the same answers", async () => {
    const put = await unary(kv, KV.put, etcdserverpb.PutRequest.fromPartial({ key: bytes('live/json'), value: bytes('{}'), prevKv: true }));
    const request = etcdserverpb.RangeRequest.fromPartial({ key: bytes('live/'), rangeEnd: bytes('live0'), revision: put.header!.revision });
    const viaGrpc = await unary(kv, KV.range, request);
    const viaGateway = async (path: string, body: unknown) => {
      const response = await fetch(`http://${etcd.clientAddress}${path}`, { method: 'POST', body: JSON.stringify(body) });
      expect(response.status).toBe(200);
      return (await response.json()) as unknown;
    };
    // The gateway request is built by fromJSON's inverse, so both directions are exercised.
    expect(await viaGateway('/v3/kv/range', etcdserverpb.RangeRequest.toJSON(request))).toEqual(etcdserverpb.RangeResponse.toJSON(viaGrpc));
    const status = await unary(maintenance, Maintenance.status, {});
    const gatewayStatus = (await viaGateway('/v3/maintenance/status', {})) as Record<string, unknown>;
    expect(etcdserverpb.StatusResponse.fromJSON(gatewayStatus).header?.memberId).toBe(status.header!.memberId);
    expect(Object.keys(gatewayStatus).sort()).toEqual(Object.keys(etcdserverpb.StatusResponse.toJSON(status) as object).sort());
  });

  it('txn: compare on mod revision picks the branch', async () => {
    const before = await unary(kv, KV.range, etcdserverpb.RangeRequest.fromPartial({ key: bytes('live/a') }));
    const modRevision = before.kvs[0]!.modRevision;
    const txn = (revision: bigint) =>
      unary(kv, KV.txn, {
        compare: [
          etcdserverpb.Compare.fromPartial({
            key: bytes('live/a'),
            target: etcdserverpb.Compare_CompareTarget.MOD,
            result: etcdserverpb.Compare_CompareResult.EQUAL,
            targetUnion: { $case: 'modRevision', value: revision },
          }),
        ],
        success: [{ request: { $case: 'requestPut', value: etcdserverpb.PutRequest.fromPartial({ key: bytes('live/txn'), value: bytes('yes') }) } }],
        failure: [{ request: { $case: 'requestRange', value: etcdserverpb.RangeRequest.fromPartial({ key: bytes('live/a') }) } }],
      });
    const miss = await txn(modRevision + 100n);
    expect(miss.succeeded).toBe(false);
    expect(miss.responses[0]?.response?.$case).toBe('responseRange');
    const hit = await txn(modRevision);
    expect(hit.succeeded).toBe(true);
    expect(hit.responses[0]?.response?.$case).toBe('responsePut');
  });

  it('watch from a past revision with a filter delivers history then live events', async () => {
    const start = await unary(kv, KV.put, etcdserverpb.PutRequest.fromPartial({ key: bytes('live/w'), value: bytes('old') }));
    await unary(kv, KV.deleteRange, etcdserverpb.DeleteRangeRequest.fromPartial({ key: bytes('live/w') }));
    const stream = watch.watch();
    const received: etcdserverpb.WatchResponse[] = [];
    const events: mvccpb.Event[] = [];
    const twoEvents = new Promise<void>((resolve, reject) => {
      stream.on('data', (response: etcdserverpb.WatchResponse) => {
        received.push(response);
        events.push(...response.events);
        if (events.length >= 2) resolve();
      });
      stream.on('error', reject);
    });
    stream.write({
      requestUnion: {
        $case: 'createRequest',
        value: etcdserverpb.WatchCreateRequest.fromPartial({
          key: bytes('live/w'),
          startRevision: start.header!.revision,
          filters: [etcdserverpb.WatchCreateRequest_FilterType.NODELETE],
          prevKv: true,
          watchId: 42n,
        }),
      },
    });
    await new Promise((r) => setTimeout(r, 100));
    await unary(kv, KV.put, etcdserverpb.PutRequest.fromPartial({ key: bytes('live/w'), value: bytes('new') }));
    await twoEvents;
    stream.cancel();
    expect(received[0]).toMatchObject({ created: true, watchId: 42n });
    // The delete in between is filtered out; only the two puts arrive.
    expect(events.map((e) => [e.type, e.kv?.value.toString()])).toEqual([
      [mvccpb.Event_EventType.PUT, 'old'],
      [mvccpb.Event_EventType.PUT, 'new'],
    ]);
  });

  it('member list and status carry full 64-bit IDs', async () => {
    const members = await unary(cluster, Cluster.memberList, { linearizable: false });
    const status = await unary(maintenance, Maintenance.status, {});
    expect(members.members).toHaveLength(1);
    expect(members.members[0]!.ID).toBe(status.header!.memberId);
    expect(status.leader).toBe(status.header!.memberId);
    expect(status.version).toBe('3.4.23');
    expect(status.raftAppliedIndex).toBeGreaterThan(0n);
  });

  it('errors arrive with the code and text of the error table', async () => {
    await expect(unary(lease, Lease.leaseRevoke, { ID: 987654321n })).rejects.toMatchObject({
      code: etcdErrors.LeaseNotFound.code,
      details: etcdErrors.LeaseNotFound.message,
    });
    const head = await unary(kv, KV.put, etcdserverpb.PutRequest.fromPartial({ key: bytes('live/c'), value: bytes('x') }));
    await unary(kv, KV.compact, { revision: head.header!.revision, physical: true });
    await expect(
      unary(kv, KV.range, etcdserverpb.RangeRequest.fromPartial({ key: bytes('live/c'), revision: 2n })),
    ).rejects.toMatchObject({ code: etcdErrors.Compacted.code, details: etcdErrors.Compacted.message });
  });
});

describeWithEtcd('real etcdctl against a Keel-defined server', () => {
  let server: grpc.Server;
  let endpoint: string;
  const header = { clusterId: (1n << 64n) - 1n, memberId: 0x8e9e05c52164694dn, revision: 77n, raftTerm: 3n };

  beforeAll(async () => {
    server = new grpc.Server();
    const handlers: Partial<etcdserverpb.KVServer> = {
      range: (call, callback) => {
        if (call.request.revision === 1n) {
          callback(etcdServiceError('Compacted'));
          return;
        }
        callback(null, {
          header,
          kvs: [mvccpb.KeyValue.fromPartial({ key: call.request.key, value: bytes('from-keel'), createRevision: 5n, modRevision: 77n, version: 2n, lease: (1n << 63n) - 1n })],
          more: false,
          count: 1n,
        });
      },
    };
    server.addService(etcdserverpb.KVService, handlers as grpc.UntypedServiceImplementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    endpoint = `127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  function etcdctl(args: string[]): Promise<{ code: number; out: string }> {
    return new Promise((resolve) =>
      execFile('etcdctl', [`--endpoints=${endpoint}`, '--command-timeout=3s', ...args], { env: { ...process.env, ETCDCTL_API: '3' } }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      ),
    );
  }

  it('etcdctl decodes a Keel-encoded range response', async () => {
    const { code, out } = await etcdctl(['get', 'some/key', '-w', 'json']);
    expect(code).toBe(0);
    expect(out).toContain('"cluster_id":18446744073709551615');
    expect(out).toContain('"revision":77');
    expect(out).toContain(`"key":"${bytes('some/key').toString('base64')}"`);
    expect(out).toContain(`"value":"${bytes('from-keel').toString('base64')}"`);
    expect(out).toContain('"lease":9223372036854775807');
  });

  it('etcdctl recognises an error built by etcdServiceError', async () => {
    const { code, out } = await etcdctl(['get', 'some/key', '--rev=1']);
    expect(code).not.toBe(0);
    expect(out).toContain('Error: etcdserver: mvcc: required revision has been compacted');
    expect(out).toContain('code = OutOfRange');
  });
});
