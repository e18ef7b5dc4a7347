import * as grpc from '@grpc/grpc-js';
import { GrpcServer } from './server';
import { listenShared, type SharedListener } from './listener';
import { HealthService, decodeHealthCheckRequest, encodeHealthCheckRequest, healthHandlers, type ServingStatus } from './grpc-health';

describe('grpc.health.v1.Health', () => {
  let server: GrpcServer;
  let listener: SharedListener;
  let status: ServingStatus = 'SERVING';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let client: any;

  beforeAll(async () => {
    server = new GrpcServer({ maxReceiveMessageBytes: 1024 });
    server.addService(HealthService, healthHandlers((service) => (service === '' ? status : undefined), 20));
    listener = await listenShared({ url: 'http://127.0.0.1:0', grpc: server, http1: (_q, s) => s.end() });
    const Client = grpc.makeGenericClientConstructor(HealthService as never, 'Health');
    client = new Client(`127.0.0.1:${listener.port}`, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    client.close();
    await server.close(100);
    await listener.close();
  });

  const check = (service: string): Promise<{ status: number }> =>
    new Promise((resolve, reject) => client.check({ service }, (err: Error | null, res: { status: number }) => (err ? reject(err) : resolve(res))));

  test('Check reports SERVING for the empty service name, NOT_FOUND for others (as etcd/grpc-go)', async () => {
    await expect(check('')).resolves.toEqual({ status: 1 });
    await expect(check('etcdserverpb.KV')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
  });

  test('Watch streams status changes', async () => {
    const call = client.watch({ service: '' });
    const seen: number[] = [];
    call.on('data', (m: { status: number }) => seen.push(m.status));
    call.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 100));
    status = 'NOT_SERVING';
    await new Promise((r) => setTimeout(r, 100));
    call.cancel();
    status = 'SERVING';
    expect(seen).toEqual([1, 2]);
  });

  test('request encoding round-trips and skips unknown fields', () => {
    expect(decodeHealthCheckRequest(encodeHealthCheckRequest({ service: 'abc' }))).toEqual({ service: 'abc' });
    expect(decodeHealthCheckRequest(Buffer.from([0x10, 0x05, 0x0a, 0x01, 0x78]))).toEqual({ service: 'x' });
  });
});
