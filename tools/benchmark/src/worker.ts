// Worker-thread entry point: runs one share of a unary benchmark and posts back its
// latencies. Built by tools/build to dist/benchmark/worker.js.
import { parentPort, workerData } from 'node:worker_threads';
import { runUnaryClients } from './runner/unary-clients';
import type { WorkerMessage, WorkerTask } from './runner/protocol';

async function main(): Promise<void> {
  if (!parentPort) throw new Error('worker.ts must run as a worker thread');
  const port = parentPort;
  const task = workerData as WorkerTask;
  const started = performance.now();
  const recorder = await runUnaryClients(task, (done) => port.postMessage({ type: 'progress', done } satisfies WorkerMessage));
  const { samples, errors } = recorder.toTransfer();
  const message: WorkerMessage = { type: 'done', samples, errors, elapsedSeconds: (performance.now() - started) / 1000 };
  port.postMessage(message, [samples.buffer as ArrayBuffer]);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
