// Benchmark (not a test): committed entries per second through a 3-node in-memory cluster.
//
//   npx esbuild libs/raft/bench/throughput.ts --bundle --platform=node --outfile=/tmp/raft-bench.js \
//     && node /tmp/raft-bench.js [entries] [batch] [payloadBytes] [batch|single]
//
// or `bin/raft-sim bench [--entries N] [--batch B] [--payload BYTES]` (same driver).
import { performance } from 'node:perf_hooks';
import { formatBenchResult, runThroughputBench } from '../src/testing/bench';

const clocks = {
  wallMillis: () => performance.now(),
  cpuMicros: () => {
    const usage = process.cpuUsage();
    return usage.user + usage.system;
  },
};

const [entries = '200000', batch = '100', payload = '100', mode = 'batch'] = process.argv.slice(2);
const options = { entries: Number(entries), batch: Number(batch), payloadBytes: Number(payload), proposeBatch: mode === 'batch' };
console.log(formatBenchResult(options, runThroughputBench(options, clocks)));
