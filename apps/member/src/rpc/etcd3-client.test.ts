import { Etcd3 } from 'etcd3';
import { etcdserverpb, mvccpb } from '@keel/proto';
import { GrpcServer } from './server';
import { listenShared, type SharedListener } from './listener';
import { GrpcError, GrpcStatus } from './status';

/** The etcd3 npm client against our server with the real generated KV service definition. */
describe('GrpcServer with the etcd3 npm client', () => {
  let server: GrpcServer;
  let listener: SharedListener;
  let client: Etcd3;
  const store = new Map<string, Buffer>();
  let revision = 1n;

  const header = (): etcdserverpb.ResponseHeader => ({ clusterId: 0xcdf818194e3a8c32n, memberId: 0x8e9e05c52164694dn, revision, raftTerm: 2n });

  beforeAll(async () => {
    server = new GrpcServer({ maxReceiveMessageBytes: 2 * 1024 * 1024 });
    server.addService(etcdserverpb.KVService, {
      put: async (req) => {
        revision++;
        store.set(req.key.toString('latin1'), req.value);
        return { header: header() };
      },
      range: async (req) => {
        if (req.revision > 0n && req.revision < 2n) {
          throw new GrpcError(GrpcStatus.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted');
        }
        const value = store.get(req.key.toString('latin1'));
        const kvs: mvccpb.KeyValue[] =
          value === undefined
            ? []
            : [{ key: req.key, value, createRevision: revision, modRevision: revision, version: 1n, lease: 0n }];
        return { header: header(), kvs, more: false, count: BigInt(kvs.length) };
      },
    });
    listener = await listenShared({ url: 'http://127.0.0.1:0', grpc: server, http1: (_req, res) => res.end() });
    client = new Etcd3({ hosts: `http://127.0.0.1:${listener.port}` });
  });

  afterAll(async () => {
    client.close();
    await server.close(100);
    await listener.close();
  });

  test('put then get round-trips through the generated KV definition', async () => {
    await client.put('greeting').value('hello keel');
    await expect(client.get('greeting').string()).resolves.toBe('hello keel');
    await expect(client.get('absent').string()).resolves.toBeNull();
  });

  test('an etcd error text reaches the etcd3 client', async () => {
    await expect(client.get('greeting').revision(1).string()).rejects.toThrow('required revision has been compacted');
  });
});
