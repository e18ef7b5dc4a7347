// Runs a range of seeds and summarises: the engine behind `bin/raft-sim` and the jest test.
import type { SimMutation } from './node';
import { type SimResult, runSimulation } from './simulation';

export interface SeedsOptions {
  seedStart: number;
  seeds: number;
  nodes: number;
  steps: number;
  livenessSteps?: number;
  log?: (line: string) => void;
  mutation?: SimMutation;
  /** Stop at the first violation (default true). */
  stopOnViolation?: boolean;
}

export interface SeedsSummary {
  runs: number;
  failures: SimResult[];
  /** The summary line, e.g. "300 seeds, 0 violations". */
  line: string;
  totals: { proposals: number; acknowledged: number; crashes: number; confChanges: number; maxTerm: number };
}

export function runSeeds(options: SeedsOptions): SeedsSummary {
  const failures: SimResult[] = [];
  const totals = { proposals: 0, acknowledged: 0, crashes: 0, confChanges: 0, maxTerm: 0 };
  let runs = 0;
  for (let seed = options.seedStart; seed < options.seedStart + options.seeds; seed++) {
    const result = runSimulation({
      seed,
      nodes: options.nodes,
      steps: options.steps,
      ...(options.livenessSteps !== undefined ? { livenessSteps: options.livenessSteps } : {}),
      ...(options.log !== undefined ? { log: options.log } : {}),
      ...(options.mutation !== undefined ? { mutation: options.mutation } : {}),
    });
    runs++;
    totals.proposals += result.stats.proposals;
    totals.acknowledged += result.stats.acknowledged;
    totals.crashes += result.stats.crashes;
    totals.confChanges += result.stats.confChanges;
    totals.maxTerm = Math.max(totals.maxTerm, result.stats.maxTerm);
    if (result.violation !== undefined) {
      failures.push(result);
      if (options.stopOnViolation !== false) break;
    }
  }
  return { runs, failures, totals, line: `${runs} seeds, ${failures.length} violations` };
}

/** Human-readable report of one failed seed. */
export function describeFailure(result: SimResult): string {
  const v = result.violation;
  if (v === undefined) return `seed ${result.seed}: ok`;
  return [`seed ${result.seed}: ${v.property} violated at step ${v.step}: ${v.detail}`, 'trace (last events):', ...v.trace.map((l) => `  ${l}`)].join('\n');
}
