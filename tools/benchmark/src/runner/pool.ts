import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { GlobalOptions, UnaryWorkloadOptions } from '../options';
import { LatencyRecorder } from '../report/latencies';
import type { WorkerMessage, WorkerTask } from './protocol';
import { splitEvenly } from './split';
import { Progress } from './progress';

/** Plans each worker's share: connections round-robin over endpoints, clients and requests split evenly. */
export function planTasks(global: GlobalOptions, workload: UnaryWorkloadOptions): WorkerTask[] {
  const workers = Math.max(1, Math.min(global.workers, global.conns));
  const connsPerWorker = splitEvenly(global.conns, workers);
  const clientsPerWorker = splitEvenly(global.clients, workers);
  const requestsPerWorker = splitEvenly(global.total, workers);
  let connection = 0;
  let startIndex = 0;
  return connsPerWorker.map((conns, w) => {
    const targets = Array.from({ length: conns }, () => global.endpoints[connection++ % global.endpoints.length]!);
    const task: WorkerTask = {
      connectionTargets: targets,
      clients: clientsPerWorker[w]!,
      requests: requestsPerWorker[w]!,
      rate: workload.rate > 0 ? workload.rate / workers : 0,
      startIndex,
      workload,
    };
    startIndex += task.requests;
    return task;
  });
}

/** Runs a unary workload on worker threads and merges their latencies. */
export async function runUnaryWorkload(
  global: GlobalOptions,
  workload: UnaryWorkloadOptions,
): Promise<{ recorder: LatencyRecorder; totalSeconds: number }> {
  const tasks = planTasks(global, workload);
  const workerFile = path.join(__dirname, 'worker.js');
  const progress = new Progress(global.total);
  const started = performance.now();
  const parts = await Promise.all(
    tasks.map(
      (task, index) =>
        new Promise<{ samples: Float64Array; errors: [string, number][] }>((resolve, reject) => {
          const worker = new Worker(workerFile, { workerData: task });
          worker.on('message', (message: WorkerMessage) => {
            if (message.type === 'progress') progress.update(index, message.done);
            else resolve({ samples: message.samples, errors: message.errors });
          });
          worker.on('error', reject);
          worker.on('exit', (code) => {
            if (code !== 0) reject(new Error(`benchmark worker exited with code ${code}`));
          });
        }),
    ),
  );
  const totalSeconds = (performance.now() - started) / 1000;
  progress.finish();
  return { recorder: LatencyRecorder.merge(parts), totalSeconds };
}
