import { parseArgs } from 'node:util';
import { describeFailure, runSeeds } from './testing';

const USAGE =
  'usage: raft-sim [--seeds N] [--seed-start S] [--nodes 3|5] [--steps K] [--liveness-steps L] [--verbose] [--keep-going] [--mutation amnesia|forget-vote]';
const MUTATIONS = ['amnesia', 'forget-vote'] as const;

/** `raft-sim` proper: runs seeds, prints one summary line; exit 1 on any violation. */
export function runSimCommand(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      seeds: { type: 'string', default: '100' },
      'seed-start': { type: 'string', default: '1' },
      nodes: { type: 'string', default: '3' },
      steps: { type: 'string', default: '1000' },
      'liveness-steps': { type: 'string' },
      verbose: { type: 'boolean', default: false },
      'keep-going': { type: 'boolean', default: false },
      mutation: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const nodes = positiveInt(values.nodes, 'nodes');
  if (nodes !== 3 && nodes !== 5) throw new Error('--nodes must be 3 or 5');
  const mutation = values.mutation;
  if (mutation !== undefined && !(MUTATIONS as readonly string[]).includes(mutation)) throw new Error(`--mutation must be one of ${MUTATIONS.join(', ')}`);
  const summary = runSeeds({
    seeds: positiveInt(values.seeds, 'seeds'),
    seedStart: Number.parseInt(values['seed-start'], 10),
    nodes,
    steps: positiveInt(values.steps, 'steps'),
    ...(values['liveness-steps'] !== undefined ? { livenessSteps: positiveInt(values['liveness-steps'], 'liveness-steps') } : {}),
    ...(values.verbose ? { log: (line: string) => console.log(line) } : {}),
    stopOnViolation: !values['keep-going'],
    ...(mutation !== undefined ? { mutation: mutation as (typeof MUTATIONS)[number] } : {}),
  });
  for (const failure of summary.failures) console.error(describeFailure(failure));
  console.log(summary.line);
  return summary.failures.length === 0 ? 0 : 1;
}

function positiveInt(text: string, name: string): number {
  const n = Number.parseInt(text, 10);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return n;
}
