/**
 * Load generator for noop-server: `node noop-client.js <port> <connections> <concurrency> <seconds> [grpc-js|h2]`.
 * h2 (default) drives raw node:http2 streams so the client costs as little CPU as possible;
 * grpc-js uses the real client library. Prints calls/s.
 */
import * as grpc from '@grpc/grpc-js';
import http2 from 'node:http2';
import { encodeFrame } from '../framing';
import { TestService } from '../test-service';

const [port, connections, concurrency, seconds, mode] = [
  Number(process.argv[2]),
  Number(process.argv[3] ?? 4),
  Number(process.argv[4] ?? 200),
  Number(process.argv[5] ?? 5),
  process.argv[6] ?? 'h2',
];

const body = encodeFrame(Buffer.from(JSON.stringify({ text: 'x' })));
let done = 0;
let failed = 0;
let stopping = false;

function h2Loop(session: http2.ClientHttp2Session): void {
  if (stopping) return;
  const req = session.request({ ':method': 'POST', ':path': '/keel.test.Test/Echo', 'content-type': 'application/grpc', te: 'trailers' });
  let status: string | undefined;
  req.on('trailers', (t) => (status = String(t['grpc-status'])));
  req.on('data', () => undefined);
  req.on('end', () => {
    if (status === '0') done++;
    else failed++;
    h2Loop(session);
  });
  req.on('error', () => failed++);
  req.end(body);
}

function grpcLoop(client: grpc.Client & Record<string, (...args: unknown[]) => void>): void {
  if (stopping) return;
  client.echo!({ text: 'x' }, (err: unknown) => {
    if (err) failed++;
    else done++;
    grpcLoop(client);
  });
}

async function main(): Promise<void> {
  const perConnection = Math.ceil(concurrency / connections);
  const closers: (() => void)[] = [];
  for (let c = 0; c < connections; c++) {
    if (mode === 'grpc-js') {
      const Client = grpc.makeGenericClientConstructor(TestService as never, 'Test');
      const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }) as never;
      for (let i = 0; i < perConnection; i++) grpcLoop(client);
      closers.push(() => (client as grpc.Client).close());
    } else {
      const session = http2.connect(`http://127.0.0.1:${port}`);
      session.on('error', () => undefined);
      for (let i = 0; i < perConnection; i++) h2Loop(session);
      closers.push(() => session.close());
    }
  }
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  const [startDone, startAt] = [done, performance.now()];
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const rate = ((done - startDone) / (performance.now() - startAt)) * 1000;
  stopping = true;
  process.stdout.write(`${mode}: ${Math.round(rate)} calls/s (${connections} conns, ${concurrency} concurrent, failed ${failed})\n`);
  closers.forEach((close) => close());
  setTimeout(() => process.exit(0), 200);
}

void main();
