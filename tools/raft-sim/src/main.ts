// bin/raft-sim: seeded Raft cluster simulation, transcript tests and a throughput benchmark.
//
//   bin/raft-sim [--seeds N] [--seed-start S] [--nodes 3|5] [--steps K] [--verbose]
//   bin/raft-sim transcript [--rewrite] <file.txt>...
//   bin/raft-sim bench [--entries N] [--batch B] [--payload BYTES]
//
// The simulator prints exactly one summary line ("300 seeds, 0 violations") and exits 0, or
// prints each failing seed with the broken property and a trace and exits 1.
import { runSimCommand } from './sim-command';
import { runTranscriptCommand } from './transcript-command';
import { runBenchCommand } from './bench-command';

function main(argv: string[]): number {
  const [first, ...rest] = argv;
  if (first === 'transcript') return runTranscriptCommand(rest);
  if (first === 'bench') return runBenchCommand(rest);
  if (first === 'sim') return runSimCommand(rest);
  return runSimCommand(argv);
}

process.exitCode = main(process.argv.slice(2));
