// Per-request costs on the member's write path, each against what it replaced (not a test;
// numbers depend on the machine). Run from the repository root:
//
//   npx esbuild apps/member/src/server/bench/request-path.ts --bundle --platform=node \
//     --packages=external --outfile=dist/bench/request-path.js && node dist/bench/request-path.js
//
// - encode: InternalRaftRequest for a put (8 B key, 256 B value) with a fresh writer per
//   request (before) and with the shared writer of encodeToBuffer (now).
// - timeout: 1000 waiters in flight, each registered, answered and awaited, with a
//   setTimeout/clearTimeout per request (before) and with the registry's deadline sweep (now).
// - metrics: one finished call counted with four prom-client incs (before) and with the
//   plain counts published on scrape (now).
import { encodeToBuffer, internal } from '@keel/proto';
import { createMetrics, grpcOutcomeRecorder } from '../../observability/metrics';
import { createWaitRegistry, type WaitTimeout } from '../wait';

const ROUNDS = 7;

async function opsPerSecond(name: string, opsPerRun: number, run: () => void | Promise<void>): Promise<void> {
  const rates: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    // Process CPU time (all threads, GC included): steadier than wall-clock time on a shared machine.
    const started = process.cpuUsage();
    await run();
    const used = process.cpuUsage(started);
    const seconds = (used.user + used.system) / 1e6;
    // Round 0 is warm-up.
    if (round > 0) rates.push(opsPerRun / seconds);
  }
  rates.sort((a, b) => a - b);
  const median = rates[rates.length >> 1]!;
  console.log(`${name.padEnd(52)} ${String(Math.round(median)).padStart(10)} ops per CPU second  ${(1e6 / median).toFixed(3).padStart(8)} µs/op`);
}

let sink = 0;
/** Request IDs as the member makes them: 64-bit, member ID in the top bits. */
let nextId = 0xdef0_0191_2345_6700n;

/** As decoded from the wire: the same request body each time, a fresh header with a fresh ID. */
const put = {
  $case: 'put' as const,
  value: { key: Buffer.from('00012345'), value: Buffer.alloc(256, 0x61), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false },
};
const putRequest = () => ({ header: { id: nextId++, username: '', authRevision: 0n }, request: put });

async function encode(): Promise<void> {
  const N = 100_000;
  await opsPerSecond('encode: fresh writer per request (before)', N, () => {
    for (let i = 0; i < N; i++) sink += internal.InternalRaftRequest.encode(putRequest()).finish().length;
  });
  await opsPerSecond('encode: encodeToBuffer, shared writer (now)', N, () => {
    for (let i = 0; i < N; i++) sink += encodeToBuffer(internal.InternalRaftRequest, putRequest()).length;
  });
}

async function timeouts(): Promise<void> {
  const IN_FLIGHT = 1000;
  const BATCHES = 50;
  const timeout: WaitTimeout = { ms: 7000, error: () => new Error('etcdserver: request timed out') };
  const cycle = async (register: (id: bigint) => Promise<number>, trigger: (id: bigint) => void) => {
    for (let batch = 0; batch < BATCHES; batch++) {
      const ids = Array.from({ length: IN_FLIGHT }, () => nextId++);
      const waiting = ids.map(register);
      for (const id of ids) trigger(id);
      for (const result of await Promise.all(waiting)) sink += result;
    }
  };
  const before = createWaitRegistry<number>(100_000);
  await opsPerSecond('timeout: setTimeout + clearTimeout per request (before)', IN_FLIGHT * BATCHES, () =>
    cycle(
      async (id) => {
        const outcome = before.register(id);
        const timer = setTimeout(() => before.fail(id, timeout.error()), timeout.ms);
        try {
          return await outcome;
        } finally {
          clearTimeout(timer);
        }
      },
      (id) => before.trigger(id, 1),
    ),
  );
  const now = createWaitRegistry<number>(100_000);
  await opsPerSecond('timeout: deadline in the wait registry (now)', IN_FLIGHT * BATCHES, () =>
    cycle(
      async (id) => await now.register(id, timeout),
      (id) => now.trigger(id, 1),
    ),
  );
}

async function metrics(): Promise<void> {
  const N = 200_000;
  const outcome = { path: '/etcdserverpb.KV/Put', service: 'etcdserverpb.KV', method: 'Put', kind: 'unary' as const, code: 0, durationMs: 1, receivedBytes: 280, sentBytes: 30 };
  const old = createMetrics({ processMetrics: false });
  const labels = { grpc_type: outcome.kind, grpc_service: outcome.service, grpc_method: outcome.method };
  const started = old.grpcStarted.labels(labels);
  const handled = old.grpcHandled.labels({ ...labels, grpc_code: 'OK' });
  await opsPerSecond('metrics: four prom-client incs per call (before)', N, () => {
    for (let i = 0; i < N; i++) {
      // What the recorder did per call: a key string, a map lookup, four incs.
      sink += `${outcome.path}|${outcome.code}`.length;
      started.inc();
      handled.inc();
      old.clientGrpcReceivedBytes.inc(outcome.receivedBytes);
      old.clientGrpcSentBytes.inc(outcome.sentBytes);
    }
  });
  const recorder = grpcOutcomeRecorder(createMetrics({ processMetrics: false }));
  await opsPerSecond('metrics: plain counts, published on scrape (now)', N, () => {
    for (let i = 0; i < N; i++) recorder(outcome);
  });
}

async function main(): Promise<void> {
  console.log(`node ${process.version}`);
  await encode();
  await timeouts();
  await metrics();
  if (sink === -1) console.log(sink);
}

void main();
