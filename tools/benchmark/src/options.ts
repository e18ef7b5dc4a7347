import { parseArgs } from 'node:util';
import os from 'node:os';

/** Flags shared by every command, named as in etcd's benchmark tool. */
export interface GlobalOptions {
  endpoints: string[];
  conns: number;
  clients: number;
  total: number;
  precise: boolean;
  output: 'text' | 'json';
  /** Worker threads the clients are spread over (Keel's addition; etcd's tool is Go). */
  workers: number;
}

export interface UnaryWorkloadOptions {
  command: 'put' | 'range' | 'txn-put';
  keySize: number;
  valSize: number;
  keySpaceSize: number;
  sequentialKeys: boolean;
  /** Requests per second over all clients; 0 means as fast as possible. */
  rate: number;
  rangeKey: string;
  rangeEnd: string;
  consistency: 'l' | 's';
  txnOps: number;
}

export interface WatchWorkloadOptions {
  streams: number;
  watchersPerStream: number;
  putTotal: number;
  putRate: number;
  keySize: number;
  valSize: number;
}

export interface LeaseWorkloadOptions {
  ttlSeconds: number;
}

export class UsageError extends Error {}

const globalFlags = {
  endpoints: { type: 'string', default: '127.0.0.1:2379' },
  conns: { type: 'string', default: '1' },
  clients: { type: 'string', default: '1' },
  total: { type: 'string', default: '10000' },
  precise: { type: 'boolean', default: false },
  output: { type: 'string', default: 'text' },
  workers: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const workloadFlags = {
  'key-size': { type: 'string', default: '8' },
  'val-size': { type: 'string', default: '8' },
  'key-space-size': { type: 'string', default: '1' },
  'sequential-keys': { type: 'boolean', default: false },
  rate: { type: 'string', default: '0' },
  consistency: { type: 'string', default: 'l' },
  'txn-ops': { type: 'string', default: '1' },
  streams: { type: 'string', default: '10' },
  'watchers-per-stream': { type: 'string', default: '10' },
  'watch-per-stream': { type: 'string' },
  'put-total': { type: 'string', default: '1000' },
  'put-rate': { type: 'string', default: '100' },
  ttl: { type: 'string', default: '60' },
  // compare command
  members: { type: 'string', default: '1' },
  'etcd-binary': { type: 'string', default: 'etcd' },
  'keel-binary': { type: 'string' },
  rounds: { type: 'string', default: '1' },
  'warmup-runs': { type: 'string', default: '1' },
  scale: { type: 'string', default: '1' },
  workloads: { type: 'string' },
} as const;

export function positiveInt(name: string, text: string, allowZero = false): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new UsageError(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got "${text}"`);
  }
  return value;
}

export interface ParsedCommandLine {
  command: string;
  positionals: string[];
  global: GlobalOptions;
  values: Record<string, string | boolean | undefined>;
  help: boolean;
}

export function parseCommandLine(argv: string[]): ParsedCommandLine {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...globalFlags, ...workloadFlags },
    allowPositionals: true,
    strict: true,
  });
  const output = String(values.output);
  if (output !== 'text' && output !== 'json') throw new UsageError(`--output must be text or json, got "${output}"`);
  const clients = positiveInt('clients', String(values.clients));
  const conns = positiveInt('conns', String(values.conns));
  if (conns > clients) throw new UsageError('--conns must not exceed --clients');
  const defaultWorkers = Math.min(os.availableParallelism(), Math.max(1, Math.floor(clients / 10)) || 1);
  const global: GlobalOptions = {
    endpoints: String(values.endpoints).split(',').filter(Boolean),
    conns,
    clients,
    total: positiveInt('total', String(values.total)),
    precise: Boolean(values.precise),
    output,
    workers: values.workers === undefined ? defaultWorkers : positiveInt('workers', String(values.workers)),
  };
  global.workers = Math.min(global.workers, conns);
  return {
    command: positionals[0] ?? '',
    positionals: positionals.slice(1),
    global,
    values: values as Record<string, string | boolean | undefined>,
    help: Boolean(values.help),
  };
}

export function unaryOptions(parsed: ParsedCommandLine): UnaryWorkloadOptions {
  const v = parsed.values;
  const consistency = String(v.consistency);
  if (consistency !== 'l' && consistency !== 's') throw new UsageError(`--consistency must be l or s, got "${consistency}"`);
  if (parsed.command === 'range' && parsed.positionals.length < 1) throw new UsageError('range needs a key: range KEY [END]');
  return {
    command: parsed.command as UnaryWorkloadOptions['command'],
    keySize: positiveInt('key-size', String(v['key-size'])),
    valSize: positiveInt('val-size', String(v['val-size']), true),
    keySpaceSize: positiveInt('key-space-size', String(v['key-space-size'])),
    sequentialKeys: Boolean(v['sequential-keys']),
    rate: positiveInt('rate', String(v.rate), true),
    rangeKey: parsed.positionals[0] ?? '',
    rangeEnd: parsed.positionals[1] ?? '',
    consistency,
    txnOps: positiveInt('txn-ops', String(v['txn-ops'])),
  };
}

export function watchOptions(parsed: ParsedCommandLine): WatchWorkloadOptions {
  const v = parsed.values;
  return {
    streams: positiveInt('streams', String(v.streams)),
    watchersPerStream: positiveInt('watchers-per-stream', String(v['watch-per-stream'] ?? v['watchers-per-stream'])),
    putTotal: positiveInt('put-total', String(v['put-total'])),
    putRate: positiveInt('put-rate', String(v['put-rate']), true),
    keySize: positiveInt('key-size', String(v['key-size'])),
    valSize: positiveInt('val-size', String(v['val-size']), true),
  };
}

export function leaseOptions(parsed: ParsedCommandLine): LeaseWorkloadOptions {
  return { ttlSeconds: positiveInt('ttl', String(parsed.values.ttl)) };
}
