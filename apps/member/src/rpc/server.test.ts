import * as grpc from '@grpc/grpc-js';
import http2 from 'node:http2';
import { GrpcServer } from './server';
import { listenShared, type SharedListener } from './listener';
import { GrpcError, GrpcStatus } from './status';
import { TestService, type TestMessage } from './test-service';
import type { CallOutcome } from './types';
import type { GrpcFrontEnd } from './server';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyClient = any;

const MAX_REQUEST = 4 * 1024 * 1024;

const FRONT_ENDS: GrpcFrontEnd[] = ['lean', 'node-http2'];

describe.each(FRONT_ENDS)('GrpcServer (%s front end) with a grpc-js client', (frontEnd) => {
  let server: GrpcServer;
  let listener: SharedListener;
  let client: AnyClient;
  const outcomes: CallOutcome[] = [];
  const cancelled: string[] = [];

  beforeAll(async () => {
    server = new GrpcServer({ maxReceiveMessageBytes: MAX_REQUEST, frontEnd, onCallEnd: (o) => outcomes.push(o) });
    server.addService(TestService, {
      echo: async (req, ctx) => ({ text: `${req.text}|${String(ctx.metadata['x-tag'] ?? '')}`, n: (req.n ?? 0) + 1 }),
      fail: (req) => {
        throw new GrpcError((req.code ?? GrpcStatus.NOT_FOUND) as never, req.text ?? 'nope');
      },
      hang: (req, ctx) =>
        new Promise<TestMessage>((resolve) => {
          ctx.signal.addEventListener('abort', () => {
            cancelled.push(req.text ?? '');
            resolve({});
          });
        }),
      blob: (req) => Buffer.from(req).reverse(),
      count: (call) => {
        call.onMessage((req) => {
          for (let i = 0; i < (req.n ?? 0); i++) call.write({ n: i });
          if (req.code !== undefined) call.fail(new GrpcError(req.code as never, 'stopped after writes'));
          else call.end();
        });
      },
      // Registers its listeners late, end first: queued requests must still arrive, before the end.
      lateChat: (call) => {
        setTimeout(() => {
          const got: string[] = [];
          call.onEnd(() => {
            call.write({ text: `got:${got.join(',')}` });
            call.end();
          });
          call.onMessage((req) => got.push(req.text!));
        }, 100);
      },
      chat: (call) => {
        call.onMessage((req) => call.write({ text: `re:${req.text}` }));
        call.onEnd(() => {
          call.write({ text: 'bye' });
          call.end();
        });
      },
    });
    const http1 = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`http1 ${req.method} ${req.url}`);
    };
    listener = await listenShared({ url: 'http://127.0.0.1:0', grpc: server, http1 });
    const Client = grpc.makeGenericClientConstructor(TestService as never, 'Test');
    client = new Client(`127.0.0.1:${listener.port}`, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      'grpc.max_send_message_length': 64 * 1024 * 1024,
    });
  });

  afterAll(async () => {
    client.close();
    await server.close(100);
    await listener.close();
  });

  const unary = <T>(method: string, req: unknown, metadata = new grpc.Metadata(), options: grpc.CallOptions = {}): Promise<T> =>
    new Promise((resolve, reject) =>
      client[method](req, metadata, options, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res))),
    );

  test('unary call returns the handler result and sees metadata', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('x-tag', 'abc');
    await expect(unary('echo', { text: 'hi', n: 41 }, metadata)).resolves.toEqual({ text: 'hi|abc', n: 42 });
  });

  test('a thrown GrpcError reaches the client with code and exact message (percent-encoded on the wire)', async () => {
    const text = 'etcdserver: mvcc: required revision has been compacted — 100% sure';
    const err = await unary('fail', { code: GrpcStatus.OUT_OF_RANGE, text }).catch((e: grpc.ServiceError) => e);
    expect((err as grpc.ServiceError).code).toBe(grpc.status.OUT_OF_RANGE);
    expect((err as grpc.ServiceError).details).toBe(text);
  });

  test('an unregistered method of a known service is UNIMPLEMENTED', async () => {
    const err = (await unary('missing', {}).catch((e: grpc.ServiceError) => e)) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(err.details).toBe('unknown method Missing for service keel.test.Test');
  });

  test('a request over the size limit is RESOURCE_EXHAUSTED with grpc-go text', async () => {
    const big = Buffer.alloc(MAX_REQUEST + 1, 7);
    const err = (await unary('blob', big).catch((e: grpc.ServiceError) => e)) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(err.details).toBe(`grpc: received message larger than max (${MAX_REQUEST + 1} vs. ${MAX_REQUEST})`);
  });

  test('big messages split across many HTTP/2 frames arrive intact both ways', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const res = await unary<Buffer>('blob', big);
    expect(Buffer.compare(res, Buffer.from(big).reverse())).toBe(0);
  });

  test('server streaming delivers every message in order, then OK', async () => {
    const received: number[] = [];
    const call = client.count({ n: 500 });
    call.on('data', (m: TestMessage) => received.push(m.n!));
    await new Promise<void>((resolve, reject) => {
      call.on('status', (s: grpc.StatusObject) => (s.code === grpc.status.OK ? resolve() : reject(new Error(s.details))));
      call.on('error', reject);
    });
    expect(received).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  test('a stream that fails after writes ends with the error status after the messages', async () => {
    const received: number[] = [];
    const call = client.count({ n: 3, code: GrpcStatus.ABORTED });
    call.on('data', (m: TestMessage) => received.push(m.n!));
    const err = await new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
    expect(received).toEqual([0, 1, 2]);
    expect(err.code).toBe(grpc.status.ABORTED);
    expect(err.details).toBe('stopped after writes');
  });

  test('bidi streaming answers each message and the half-close', async () => {
    const call = client.chat();
    const received: string[] = [];
    call.on('data', (m: TestMessage) => received.push(m.text!));
    const done = new Promise<void>((resolve) => call.on('status', () => resolve()));
    for (const text of ['a', 'b', 'c']) call.write({ text });
    call.end();
    await done;
    expect(received).toEqual(['re:a', 're:b', 're:c', 'bye']);
  });

  test('requests that arrive before the handler listens are queued, and the end comes after them, once', async () => {
    const call = client.lateChat();
    const received: string[] = [];
    call.on('data', (m: TestMessage) => received.push(m.text!));
    const done = new Promise<void>((resolve) => call.on('status', () => resolve()));
    for (const text of ['x', 'y', 'z']) call.write({ text });
    call.end();
    await done;
    expect(received).toEqual(['got:x,y,z']);
  });

  test('client cancellation aborts the handler signal and is reported CANCELLED', async () => {
    const call = client.hang({ text: 'cancel-me' }, () => undefined);
    await new Promise((r) => setTimeout(r, 50));
    call.cancel();
    await waitFor(() => cancelled.includes('cancel-me'));
    await waitFor(() => outcomes.some((o) => o.method === 'Hang' && o.code === GrpcStatus.CANCELLED));
  });

  test('a client deadline ends the call with DEADLINE_EXCEEDED and aborts the handler', async () => {
    const err = (await unary('hang', { text: 'deadline' }, new grpc.Metadata(), { deadline: Date.now() + 100 }).catch(
      (e: grpc.ServiceError) => e,
    )) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await waitFor(() => cancelled.includes('deadline'));
  });

  test('many concurrent calls on one connection all succeed', async () => {
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => unary<TestMessage>('echo', { text: `m${i}`, n: i })),
    );
    results.forEach((res, i) => expect(res).toEqual({ text: `m${i}|`, n: i + 1 }));
  });

  test('a gzip-compressing client is understood', async () => {
    const Client = grpc.makeGenericClientConstructor(TestService as never, 'Test');
    const gzipClient: AnyClient = new Client(`127.0.0.1:${listener.port}`, grpc.credentials.createInsecure(), {
      'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip,
    });
    try {
      const res = await new Promise((resolve, reject) =>
        gzipClient.echo({ text: 'z'.repeat(5000), n: 1 }, (err: Error | null, r: TestMessage) => (err ? reject(err) : resolve(r))),
      );
      expect(res).toEqual({ text: `${'z'.repeat(5000)}|`, n: 2 });
      // The 5 kB request really travelled compressed; the reply went back uncompressed.
      expect(outcomes.some((o) => o.method === 'Echo' && o.receivedBytes < 1000 && o.sentBytes > 5000)).toBe(true);
    } finally {
      gzipClient.close();
    }
  });

  test('HTTP/1.1 requests on the same port reach the HTTP handler', async () => {
    const res = await fetch(`http://127.0.0.1:${listener.port}/health?x=1`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('http1 GET /health?x=1');
  });

  test('an unknown service answers trailers-only UNIMPLEMENTED (raw http2 view)', async () => {
    const session = http2.connect(`http://127.0.0.1:${listener.port}`);
    try {
      const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        const req = session.request({ ':method': 'POST', ':path': '/no.Such/Thing', 'content-type': 'application/grpc', te: 'trailers' });
        req.on('response', resolve);
        req.on('error', reject);
        req.end();
      });
      expect(headers['grpc-status']).toBe(String(GrpcStatus.UNIMPLEMENTED));
      expect(headers['grpc-message']).toBe('unknown service no.Such');
    } finally {
      session.close();
    }
  });

  test('onCallEnd reports service, method, kind and code', async () => {
    await unary('echo', { text: 'x' });
    await waitFor(() => outcomes.some((o) => o.path === '/keel.test.Test/Echo' && o.kind === 'unary' && o.code === 0));
    const echo = outcomes.find((o) => o.path === '/keel.test.Test/Echo' && o.code === 0)!;
    // {"text":"x"} is 12 bytes + 5 of framing; the reply {"text":"x|","n":1} is 20 + 5.
    expect(echo.receivedBytes).toBeGreaterThanOrEqual(17);
    expect(echo.sentBytes).toBeGreaterThanOrEqual(17);
    expect(outcomes.some((o) => o.service === 'keel.test.Test' && o.method === 'Count' && o.kind === 'server_stream')).toBe(true);
    // Client-chosen unknown paths never reach metrics (no unbounded label sets).
    expect(outcomes.some((o) => o.path === '/no.Such/Thing' || o.method === 'Missing')).toBe(false);
  });
});

async function waitFor(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
