import type { UnaryWorkloadOptions } from '../options';

/** What the main thread tells a worker to do. */
export interface WorkerTask {
  /** "host:port" per connection this worker opens. */
  connectionTargets: string[];
  clients: number;
  requests: number;
  /** Requests per second for this worker; 0 means unlimited. */
  rate: number;
  /** Offset for sequential keys, so workers do not repeat each other's keys. */
  startIndex: number;
  workload: UnaryWorkloadOptions;
}

export type WorkerMessage =
  | { type: 'progress'; done: number }
  | { type: 'done'; samples: Float64Array; errors: [string, number][]; elapsedSeconds: number };
