import type { GlobalOptions, WatchWorkloadOptions } from '../options';
import { H2GrpcConnection, type BidiStream } from '../client/h2-grpc';
import { encodePut, encodeWatchCreate, readWatchResponse, scanFields } from '../client/wire';
import { LatencyRecorder } from '../report/latencies';
import { summarize, type RunStats } from '../report/stats';
import { randomBytes } from '../keys';

const watchPrefix = '/keel-bench/watch/';
const eventArrivalTimeoutMs = 30_000;

/** Prefix range end: the prefix with its last byte incremented. */
function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = Uint8Array.from(prefix);
  end[end.length - 1]! += 1;
  return end;
}

/** The sequence number a benchmark put carried in its key, read from a WatchResponse. */
function sequencesOfEvents(message: Uint8Array, onSequence: (sequence: number) => void): void {
  scanFields(message, (field, event) => {
    if (field !== 11 || !(event instanceof Uint8Array)) return;
    scanFields(event, (eventField, kv) => {
      if (eventField !== 2 || !(kv instanceof Uint8Array)) return;
      scanFields(kv, (kvField, key) => {
        if (kvField !== 1 || !(key instanceof Uint8Array)) return;
        onSequence(Number(Buffer.from(key).toString('latin1').slice(watchPrefix.length)));
      });
    });
  });
}

interface WatchRun {
  recorder: LatencyRecorder;
  totalSeconds: number;
}

/**
 * Opens streams × watchersPerStream watchers on one prefix, then puts putTotal keys under it
 * (at putRate per second, or as fast as `clients` putters go when putRate is 0). Every
 * event's latency is measured from its put being sent to its delivery to each watcher.
 */
async function runWatch(global: GlobalOptions, options: WatchWorkloadOptions, putRate: number): Promise<WatchRun> {
  const text = new TextEncoder();
  const prefix = text.encode(watchPrefix);
  const connections = Array.from({ length: global.conns }, (_, i) => {
    const endpoint = global.endpoints[i % global.endpoints.length]!;
    return new H2GrpcConnection(endpoint.includes('://') ? endpoint : `http://${endpoint}`);
  });
  const putSentAt = new Float64Array(options.putTotal);
  const recorder = new LatencyRecorder(options.putTotal * options.streams * options.watchersPerStream);
  const expected = options.putTotal * options.streams * options.watchersPerStream;
  let received = 0;
  let allReceived: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (allReceived = resolve));
  let created = 0;
  let allCreated: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (allCreated = resolve));

  const streams: BidiStream[] = [];
  for (let s = 0; s < options.streams; s++) {
    const stream = connections[s % connections.length]!.bidi('/etcdserverpb.Watch/Watch', (message) => {
      const header = readWatchResponse(message);
      if (header.created && ++created === options.streams * options.watchersPerStream) allCreated();
      if (header.events === 0) return;
      const now = performance.now();
      sequencesOfEvents(message, (sequence) => {
        recorder.record((now - putSentAt[sequence]!) / 1000);
        if (++received === expected) allReceived();
      });
    });
    for (let w = 0; w < options.watchersPerStream; w++) stream.write(encodeWatchCreate(prefix, prefixEnd(prefix)));
    streams.push(stream);
  }
  await ready;

  const value = randomBytes(options.valSize);
  const started = performance.now();
  let next = 0;
  const pace = putRate > 0 ? 1000 / putRate : 0;
  const putter = async (index: number) => {
    const connection = connections[index % connections.length]!;
    while (next < options.putTotal) {
      const sequence = next++;
      if (pace > 0) {
        const waitMs = started + sequence * pace - performance.now();
        if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
      }
      putSentAt[sequence] = performance.now();
      await connection.unary('/etcdserverpb.KV/Put', encodePut(text.encode(watchPrefix + sequence), value));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, global.clients) }, (_, i) => putter(i)));
  const timedOut = await Promise.race([
    done.then(() => false),
    new Promise<boolean>((r) => setTimeout(() => r(true), eventArrivalTimeoutMs).unref()),
  ]);
  const totalSeconds = (performance.now() - started) / 1000;
  if (timedOut) recorder.errors.set('event not delivered', expected - received);
  for (const stream of streams) stream.cancel();
  await Promise.all(connections.map((c) => c.close()));
  return { recorder, totalSeconds };
}

/** `watch`: events delivered per second with puts as fast as the putters go. */
export async function runWatchThroughput(global: GlobalOptions, options: WatchWorkloadOptions): Promise<RunStats> {
  const { recorder, totalSeconds } = await runWatch(global, options, 0);
  return summarize(recorder.values(), totalSeconds, recorder.errors);
}

/** `watch-latency`: put-to-event latency with puts at a steady --put-rate. */
export async function runWatchLatency(global: GlobalOptions, options: WatchWorkloadOptions): Promise<RunStats> {
  const { recorder, totalSeconds } = await runWatch(global, options, options.putRate);
  return summarize(recorder.values(), totalSeconds, recorder.errors);
}
