import type { GlobalOptions, LeaseWorkloadOptions } from '../options';
import { H2GrpcConnection } from '../client/h2-grpc';
import { encodeLeaseGrant, encodeLeaseKeepAlive, readLeaseGrantId, scanFields } from '../client/wire';
import { LatencyRecorder } from '../report/latencies';
import { summarize, type RunStats } from '../report/stats';
import { splitEvenly } from '../runner/split';

/**
 * `lease-keepalive`: every client grants a lease, then sends keep-alives for it one after
 * another on its connection's keep-alive stream; latency is the request/response round trip.
 */
export async function runLeaseKeepAlive(global: GlobalOptions, options: LeaseWorkloadOptions): Promise<RunStats> {
  const connections = Array.from({ length: global.conns }, (_, i) => {
    const endpoint = global.endpoints[i % global.endpoints.length]!;
    return new H2GrpcConnection(endpoint.includes('://') ? endpoint : `http://${endpoint}`);
  });
  const waiting = new Map<bigint, () => void>();
  const streams = connections.map((connection) =>
    connection.bidi('/etcdserverpb.Lease/LeaseKeepAlive', (message) => {
      let id = 0n;
      scanFields(message, (field, value) => {
        if (field === 2 && typeof value === 'bigint') id = BigInt.asIntN(64, value);
      });
      const resolve = waiting.get(id);
      waiting.delete(id);
      resolve?.();
    }),
  );
  const leaseIds = await Promise.all(
    Array.from({ length: global.clients }, async (_, i) =>
      readLeaseGrantId(await connections[i % connections.length]!.unary('/etcdserverpb.Lease/LeaseGrant', encodeLeaseGrant(options.ttlSeconds))),
    ),
  );
  const perClient = splitEvenly(global.total, global.clients);
  const recorder = new LatencyRecorder(global.total);
  const started = performance.now();
  await Promise.all(
    leaseIds.map(async (id, i) => {
      const stream = streams[i % streams.length]!;
      for (let n = 0; n < perClient[i]!; n++) {
        const sentAt = performance.now();
        await new Promise<void>((resolve) => {
          waiting.set(id, resolve);
          stream.write(encodeLeaseKeepAlive(id));
        });
        recorder.record((performance.now() - sentAt) / 1000);
      }
    }),
  );
  const totalSeconds = (performance.now() - started) / 1000;
  for (const stream of streams) stream.cancel();
  await Promise.all(connections.map((c) => c.close()));
  return summarize(recorder.values(), totalSeconds, recorder.errors);
}
