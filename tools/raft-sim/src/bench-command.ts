import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { formatBenchResult, runThroughputBench } from './testing';

const clocks = {
  wallMillis: () => performance.now(),
  cpuMicros: () => {
    const usage = process.cpuUsage();
    return usage.user + usage.system;
  },
};

/** `raft-sim bench`: committed entries/s and µs/entry through a 3-node in-memory cluster. */
export function runBenchCommand(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      entries: { type: 'string', default: '200000' },
      batch: { type: 'string', default: '100' },
      payload: { type: 'string', default: '100' },
      'one-by-one': { type: 'boolean', default: false },
    },
  });
  const sizes = { entries: Number(values.entries), batch: Number(values.batch), payload: Number(values.payload) };
  for (const [name, v] of Object.entries(sizes)) if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  const options = { entries: sizes.entries, batch: sizes.batch, payloadBytes: sizes.payload, proposeBatch: !values['one-by-one'] };
  console.log(formatBenchResult(options, runThroughputBench(options, clocks)));
  return 0;
}
