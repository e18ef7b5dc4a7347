// gRPC behaviours compared with real etcd 3.4 (the referee): each scenario runs against etcd
// and bin/member, and the normalised answers must be equal.
import * as grpc from '@grpc/grpc-js';
import { etcdserverpb } from '@keel/proto';
import { startEtcd, startKeel, type Target } from '../src/concurrency/test-support/targets';

jest.setTimeout(90_000);

const { KVService, LeaseService, WatchService } = etcdserverpb;

interface Method<Req, Res> {
  path: string;
  requestSerialize: (value: Req) => Buffer;
  responseDeserialize: (bytes: Buffer) => Res;
}

function unary<Req, Res>(client: grpc.Client, method: Method<Req, Res>, request: Req): Promise<Res> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request, (error, response) =>
      error ? reject(error) : resolve(response!),
    ),
  );
}

const put = (key: string, value: string, lease = 0n): etcdserverpb.PutRequest => ({
  key: Buffer.from(key),
  value: Buffer.from(value),
  lease,
  prevKv: false,
  ignoreValue: false,
  ignoreLease: false,
});

function watchRequest(key: string, startRevision: number): etcdserverpb.WatchRequest {
  return {
    requestUnion: {
      $case: 'createRequest',
      value: {
        key: Buffer.from(key),
        rangeEnd: Buffer.alloc(0),
        startRevision: BigInt(startRevision),
        progressNotify: false,
        filters: [],
        prevKv: false,
        watchId: 0n,
        fragment: false,
      },
    },
  };
}

/** What a scenario observed, with member-specific IDs dropped. */
type Transcript = Array<[string, unknown]>;

function strip(header: etcdserverpb.ResponseHeader | undefined): unknown {
  return header === undefined ? undefined : { revision: header.revision.toString() };
}

function openWatch(client: grpc.Client) {
  const call = client.makeBidiStreamRequest(WatchService.watch.path, WatchService.watch.requestSerialize, WatchService.watch.responseDeserialize);
  const responses: etcdserverpb.WatchResponse[] = [];
  let ended = false;
  call.on('data', (response: etcdserverpb.WatchResponse) => responses.push(response));
  call.on('error', () => (ended = true));
  call.on('end', () => (ended = true));
  return { call, responses, isEnded: () => ended };
}

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

const summary = (r: etcdserverpb.WatchResponse) => ({
  header: strip(r.header),
  created: r.created,
  canceled: r.canceled,
  compactRevision: r.compactRevision.toString(),
  cancelReason: r.cancelReason,
  events: r.events.map((e) => ({ type: e.type, key: Buffer.from(e.kv?.key ?? []).toString(), modRevision: e.kv?.modRevision.toString() })),
});

async function runScenario(target: Target): Promise<Transcript> {
  const client = new grpc.Client(target.endpoint, grpc.credentials.createInsecure());
  const out: Transcript = [];
  const note = (step: string, value: unknown) => out.push([step, value]);
  try {
    // Revisions 2..4, then history compacted at 4.
    for (const v of ['a', 'b', 'c']) await unary(client, KVService.put, put('foo', v));
    await unary(client, KVService.compact, { revision: 4n, physical: true });

    // A watch from compacted history is cancelled exactly as etcd 3.4 words it.
    const compacted = openWatch(client);
    compacted.call.write(watchRequest('foo', 2));
    await until(() => compacted.responses.length >= 2);
    note('compacted watch', compacted.responses.map(summary));
    compacted.call.cancel();

    // A half-closed watch stream keeps delivering events.
    const halfClosed = openWatch(client);
    halfClosed.call.write(watchRequest('hc', 0));
    await until(() => halfClosed.responses.length >= 1);
    halfClosed.call.end();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await unary(client, KVService.put, put('hc', '1'));
    await until(() => halfClosed.responses.length >= 2);
    note('half-closed watch', { ended: halfClosed.isEnded(), responses: halfClosed.responses.map(summary) });
    halfClosed.call.cancel();

    // Revoking a lease answers with the revision that deleted its keys.
    const { ID } = await unary(client, LeaseService.leaseGrant, { ID: 0n, TTL: 60n });
    await unary(client, KVService.put, put('leased', 'x', ID));
    note('revoke', strip((await unary(client, LeaseService.leaseRevoke, { ID })).header));

    // A put on the revoked lease in the branch NOT taken does not fail the txn.
    const txn = await unary(client, KVService.txn, {
      compare: [{ key: Buffer.from('foo'), rangeEnd: Buffer.alloc(0), result: 0, target: 0, targetUnion: { $case: 'version', value: 999n } }],
      success: [{ request: { $case: 'requestPut', value: put('never', 'x', ID) } }],
      failure: [{ request: { $case: 'requestPut', value: put('other', 'y') } }],
    });
    note('txn with missing lease off-path', { succeeded: txn.succeeded, header: strip(txn.header) });
    // …but the taken branch still is checked.
    const refused = await unary(client, KVService.txn, {
      compare: [],
      success: [{ request: { $case: 'requestPut', value: put('never', 'x', ID) } }],
      failure: [],
    }).then(
      () => 'accepted',
      (error: grpc.ServiceError) => `${error.code} ${error.details}`,
    );
    note('txn with missing lease on-path', refused);
  } finally {
    client.close();
  }
  return out;
}

describe('gRPC answers compared with etcd 3.4', () => {
  let reference: Transcript;

  beforeAll(async () => {
    const etcd = await startEtcd();
    try {
      reference = await runScenario(etcd);
    } finally {
      await etcd.close();
    }
  });

  test('the referee behaves as these scenarios assume', () => {
    const byStep = new Map(reference);
    expect(byStep.get('compacted watch')).toEqual([
      { header: { revision: '4' }, created: true, canceled: false, compactRevision: '0', cancelReason: '', events: [] },
      { header: { revision: '0' }, created: false, canceled: true, compactRevision: '4', cancelReason: '', events: [] },
    ]);
    expect(byStep.get('half-closed watch')).toMatchObject({ ended: false });
    expect(byStep.get('revoke')).toEqual({ revision: '7' });
    expect(byStep.get('txn with missing lease on-path')).toBe('5 etcdserver: requested lease not found');
  });

  test('bin/member answers the same', async () => {
    const keel = await startKeel();
    try {
      const transcript = await runScenario(keel);
      for (let i = 0; i < reference.length; i++) expect(transcript[i]).toEqual(reference[i]);
    } finally {
      await keel.close();
    }
  });
});
