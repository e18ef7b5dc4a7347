import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { etcdserverpb } from '@keel/proto';
import { GrpcServer } from './server';
import { listenShared, type SharedListener } from './listener';
import { GrpcError, GrpcStatus } from './status';

const run = promisify(execFile);

/** Real etcdctl 3.4 (grpc-go, h2c prior knowledge) against our server on a shared port. */
describe('GrpcServer with etcdctl', () => {
  let server: GrpcServer;
  let listener: SharedListener;
  const store = new Map<string, Buffer>();
  const header = { clusterId: 1n, memberId: 2n, revision: 5n, raftTerm: 1n };

  beforeAll(async () => {
    server = new GrpcServer({ maxReceiveMessageBytes: 2 * 1024 * 1024 });
    server.addService(etcdserverpb.KVService, {
      put: (req) => {
        if (req.key.toString() === 'forbidden') throw new GrpcError(GrpcStatus.INVALID_ARGUMENT, 'etcdserver: key is not provided');
        store.set(req.key.toString('latin1'), req.value);
        return { header };
      },
      range: (req) => {
        const value = store.get(req.key.toString('latin1'));
        const kvs = value === undefined ? [] : [{ key: req.key, value, createRevision: 5n, modRevision: 5n, version: 1n, lease: 0n }];
        return { header, kvs, more: false, count: BigInt(kvs.length) };
      },
    });
    listener = await listenShared({ url: 'http://127.0.0.1:0', grpc: server, http1: (_q, s) => s.end('{"health":"true"}') });
  });

  afterAll(async () => {
    await server.close(100);
    await listener.close();
  });

  const etcdctl = (...args: string[]): Promise<{ stdout: string; stderr: string }> =>
    run('etcdctl', [`--endpoints=http://127.0.0.1:${listener.port}`, '--command-timeout=5s', ...args], {
      env: { ...process.env, ETCDCTL_API: '3' },
    });

  test('put and get', async () => {
    await expect(etcdctl('put', 'k1', 'v1')).resolves.toMatchObject({ stdout: 'OK\n' });
    await expect(etcdctl('get', 'k1')).resolves.toMatchObject({ stdout: 'k1\nv1\n' });
  });

  test('an error reaches etcdctl with its etcd text', async () => {
    const failure = await etcdctl('put', 'forbidden', 'x').catch((err: { stderr: string }) => err);
    expect((failure as { stderr: string }).stderr).toContain('etcdserver: key is not provided');
  });
});
