import * as grpc from '@grpc/grpc-js';
import net from 'node:net';
import { GrpcServer, type GrpcFrontEnd } from './server';
import { listenShared, type SharedListener } from './listener';
import { TestService, type TestMessage } from './test-service';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyClient = any;

async function startServer(frontEnd: GrpcFrontEnd): Promise<{ server: GrpcServer; listener: SharedListener; stats: { falseWrites: number; drains: number } }> {
  const stats = { falseWrites: 0, drains: 0 };
  const server = new GrpcServer({ maxReceiveMessageBytes: 1024 * 1024, frontEnd });
  const filler = 'x'.repeat(64 * 1024);
  server.addService(TestService, {
    echo: async (req) => {
      await new Promise((r) => setTimeout(r, req.n ?? 0));
      return { text: req.text };
    },
    // Writes `n` 64 KiB messages, honouring backpressure.
    count: (call) => {
      call.onMessage((req) => {
        let next = 0;
        const pump = (): void => {
          while (next < (req.n ?? 0)) {
            const ok = call.write({ n: next++, text: filler });
            if (!ok) {
              stats.falseWrites++;
              return;
            }
          }
          call.end();
        };
        call.onDrain(() => {
          stats.drains++;
          pump();
        });
        pump();
      });
    },
  });
  const listener = await listenShared({
    url: 'http://127.0.0.1:0',
    grpc: server,
    http1: (req, res) => res.end(`http1 ${req.method} ${req.url}`),
  });
  return { server, listener, stats };
}

function clientFor(port: number, options: grpc.ChannelOptions = {}): AnyClient {
  const Client = grpc.makeGenericClientConstructor(TestService as never, 'Test');
  return new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
    ...options,
  });
}

const unary = (client: AnyClient, req: TestMessage): Promise<TestMessage> =>
  new Promise((resolve, reject) => client.echo(req, (err: Error | null, res: TestMessage) => (err ? reject(err) : resolve(res))));

const FRONT_ENDS: GrpcFrontEnd[] = ['lean', 'node-http2'];

describe.each(FRONT_ENDS)('GrpcServer (%s front end): flow control, keepalive, close and port sharing', (frontEnd) => {
  test('a slow reader makes write() return false and onDrain resume the stream; nothing is lost', async () => {
    const { server, listener, stats } = await startServer(frontEnd);
    const client = clientFor(listener.port);
    try {
      const call = client.count({ n: 300 });
      const seen: number[] = [];
      call.pause();
      call.on('data', (m: TestMessage) => seen.push(m.n!));
      await new Promise((r) => setTimeout(r, 300)); // let the server fill the window
      expect(stats.falseWrites).toBeGreaterThan(0);
      call.resume();
      await new Promise<void>((resolve, reject) => {
        call.on('status', (s: grpc.StatusObject) => (s.code === 0 ? resolve() : reject(new Error(s.details))));
        call.on('error', reject);
      });
      expect(seen).toEqual(Array.from({ length: 300 }, (_, i) => i));
      expect(stats.drains).toBeGreaterThan(0);
    } finally {
      client.close();
      await server.close(100);
      await listener.close();
    }
  });

  test('frequent client keepalive pings are tolerated', async () => {
    const { server, listener } = await startServer(frontEnd);
    const client = clientFor(listener.port, { 'grpc.keepalive_time_ms': 100, 'grpc.keepalive_permit_without_calls': 1 });
    try {
      await unary(client, { text: 'a' });
      await new Promise((r) => setTimeout(r, 600));
      await expect(unary(client, { text: 'b' })).resolves.toEqual({ text: 'b' });
    } finally {
      client.close();
      await server.close(100);
      await listener.close();
    }
  });

  test('graceful close lets a call in flight finish', async () => {
    const { server, listener } = await startServer(frontEnd);
    const client = clientFor(listener.port);
    try {
      await unary(client, { text: 'warm' });
      const inFlight = unary(client, { text: 'slow', n: 300 });
      await new Promise((r) => setTimeout(r, 50));
      const closed = server.close(5000);
      await expect(inFlight).resolves.toEqual({ text: 'slow' });
      await closed;
    } finally {
      client.close();
      await listener.close();
    }
  });

  test('an HTTP/2 preface split over several packets is still recognised, and so is HTTP/1 starting with "P"', async () => {
    const { server, listener } = await startServer(frontEnd);
    try {
      const serverSettings = await new Promise<Buffer>((resolve, reject) => {
        const socket = net.connect(listener.port, '127.0.0.1');
        socket.on('error', reject);
        socket.once('data', (d) => {
          socket.destroy();
          resolve(d);
        });
        socket.write('PRI * HTTP/2.0\r\n');
        setTimeout(() => socket.write(Buffer.concat([Buffer.from('\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])])), 30);
      });
      expect(serverSettings[3]).toBe(0x04); // the server's SETTINGS frame: it spoke HTTP/2
      const http1Reply = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(listener.port, '127.0.0.1');
        let text = '';
        socket.on('error', reject);
        socket.on('data', (d) => (text += d.toString()));
        socket.on('end', () => resolve(text));
        socket.write('P');
        setTimeout(() => socket.write('OST /v3/kv/range HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'), 30);
      });
      expect(http1Reply).toMatch(/^HTTP\/1\.1 200/);
      expect(http1Reply).toContain('http1 POST /v3/kv/range');
    } finally {
      await server.close(100);
      await listener.close();
    }
  });

  test('keepalive pings: a connection that never acks is dropped, a live client keeps its connection', async () => {
    const server = new GrpcServer({ maxReceiveMessageBytes: 1024, keepaliveIntervalMs: 100, keepaliveTimeoutMs: 100, frontEnd });
    server.addService(TestService, { echo: (_req, ctx) => ({ text: ctx.peer }) });
    const listener = await listenShared({ url: 'http://127.0.0.1:0', grpc: server, http1: (_q, s) => s.end() });
    const client = clientFor(listener.port);
    try {
      const closedAt = await new Promise<number>((resolve, reject) => {
        const socket = net.connect(listener.port, '127.0.0.1');
        socket.on('error', reject);
        socket.on('data', () => undefined); // read but never answer PING
        socket.on('close', () => resolve(Date.now()));
        socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));
      });
      expect(closedAt).toBeGreaterThan(0);
      const first = await unary(client, { text: 'a' });
      await new Promise((r) => setTimeout(r, 500));
      const second = await unary(client, { text: 'b' });
      expect(second.text).toBe(first.text); // same client port: the connection survived several pings
    } finally {
      client.close();
      await server.close(100);
      await listener.close();
    }
  });
});
