/**
 * pino logger factory honouring etcd's --log-level and --log-outputs.
 * Outputs: "default"/"stderr" → fd 2, "stdout" → fd 1, anything else is a file path (appended).
 * Several outputs fan out through pino.multistream. etcd's "panic"/"fatal" levels map to pino's
 * "fatal".
 */
import { mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** etcd level names: debug, info, warn, error, panic, fatal. */
  readonly level: string;
  /** etcd --log-outputs values; empty means stderr. */
  readonly outputs: readonly string[];
  /** Fields on every line (e.g. { member: 'infra1' }). */
  readonly base?: Record<string, unknown>;
  /** Write synchronously (tests, short-lived tools). Default false: buffered, flushed at process.exit. */
  readonly sync?: boolean;
}

const LEVELS: Record<string, pino.Level> = {
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  error: 'error',
  panic: 'fatal',
  fatal: 'fatal',
};

/** Maps an etcd level name to pino's; throws on an unknown name (config validates it first). */
export function pinoLevel(level: string): pino.Level {
  const mapped = LEVELS[level];
  if (mapped === undefined) throw new Error(`unknown log level ${JSON.stringify(level)}`);
  return mapped;
}

export function createLogger(options: LoggerOptions): Logger {
  const level = pinoLevel(options.level);
  const outputs = options.outputs.length === 0 ? ['default'] : [...new Set(options.outputs)];
  const destinations = outputs.map((output) => destinationFor(output, options.sync ?? false));
  const loggerOptions: pino.LoggerOptions = {
    level,
    base: { ...(options.base ?? {}) },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (destinations.length === 1) return pino(loggerOptions, destinations[0]!);
  return pino(loggerOptions, pino.multistream(destinations.map((stream) => ({ level, stream }))));
}

function destinationFor(output: string, sync: boolean): pino.DestinationStream {
  switch (output) {
    case 'default':
    case 'stderr':
      return pino.destination({ fd: 2, sync });
    case 'stdout':
      return pino.destination({ fd: 1, sync });
    default: {
      // Opened here, synchronously: an asynchronously opened file loses (and crashes on) lines
      // written by a process that exits right away, e.g. after a fatal startup error.
      mkdirSync(path.dirname(output), { recursive: true });
      return pino.destination({ fd: openSync(output, 'a'), sync });
    }
  }
}

/** A logger that drops everything (tests, libraries used without logging). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
