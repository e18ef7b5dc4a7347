import { H2GrpcConnection } from '../client/h2-grpc';
import { LatencyRecorder } from '../report/latencies';
import { unaryRequestSource } from '../workloads/unary';
import type { WorkerTask } from './protocol';

function authority(target: string): string {
  return target.startsWith('http://') || target.startsWith('https://') ? target : `http://${target}`;
}

/**
 * Runs task.clients concurrent client loops over task.connectionTargets until
 * task.requests requests have completed (successfully or not). Each loop sends its next
 * request only when the previous one is answered, as the clients of etcd's tool do.
 */
export async function runUnaryClients(task: WorkerTask, onProgress: (done: number) => void): Promise<LatencyRecorder> {
  const connections = task.connectionTargets.map((t) => new H2GrpcConnection(authority(t)));
  const recorder = new LatencyRecorder(task.requests);
  const nextRequest = unaryRequestSource(task.workload, task.startIndex);
  let issued = 0;
  let completed = 0;
  const startMs = performance.now();
  const pace = task.rate > 0 ? 1000 / task.rate : 0;
  const progressTimer = setInterval(() => onProgress(completed), 250);

  const clientLoop = async (clientIndex: number) => {
    const connection = connections[clientIndex % connections.length]!;
    while (issued < task.requests) {
      const sequence = issued++;
      if (pace > 0) {
        const waitMs = startMs + sequence * pace - performance.now();
        if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
      }
      const request = nextRequest();
      const sentAt = performance.now();
      try {
        await connection.unary(request.path, request.body);
        recorder.record((performance.now() - sentAt) / 1000);
      } catch (err) {
        recorder.recordError((err as Error).message);
      }
      completed++;
    }
  };
  try {
    await Promise.all(Array.from({ length: task.clients }, (_, i) => clientLoop(i)));
  } finally {
    clearInterval(progressTimer);
    await Promise.all(connections.map((c) => c.close()));
  }
  onProgress(completed);
  return recorder;
}
