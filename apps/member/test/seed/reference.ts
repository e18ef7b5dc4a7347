// Real etcd as the reference transcript. For phases where etcd itself prints different things
// on different runs (Phase.etcdOutcomeVaries), a transcript matches if it equals ANY of a few
// etcd runs: each is something real etcd printed, so this accepts nothing etcd would not.
import { compareSection, type StepDifference } from './compare';
import { normalizeTranscript, replaySession, type NormalizedStep } from './replay';
import type { Phase, Section, Session } from './session';

/**
 * Extra etcd replays of one varying phase, beyond the first reference run. The quota phase is
 * the one that varies: on this machine etcd fitted 10 puts (not the 8 Keel's model fits) in 5
 * of 8 idle replays and in all 3 replays of a failed CI run, so a few extra runs are not enough.
 * With 12 (about 7 s each, made only while none matched) a real match is missed with a
 * chance of about 0.6^13, 0.1%.
 */
export const EXTRA_RUNS_MAX = 12;

async function replayPhaseOnEtcd(phase: Phase): Promise<NormalizedStep[]> {
  return normalizeTranscript(await replaySession({ phases: [phase] }, { command: 'etcd' }));
}

export class EtcdReference {
  /** Further etcd runs of varying phases, made on demand and shared by all sections. */
  private readonly extraRuns = new Map<string, NormalizedStep[][]>();

  constructor(
    private readonly session: Session,
    private readonly firstRun: readonly NormalizedStep[],
    /** Replays one phase against real etcd; replaceable for unit tests of the matching rule. */
    private readonly replayPhase: (phase: Phase) => Promise<NormalizedStep[]> = replayPhaseOnEtcd,
  ) {}

  /** Differences of `actual` from the closest etcd run (none if some etcd run matches). */
  async differences(actual: readonly NormalizedStep[], section: Section): Promise<StepDifference[]> {
    const differences = compareSection(this.firstRun, actual, section);
    const phases = new Set(differences.map((d) => d.phase));
    const varying = this.session.phases.filter((p) => phases.has(p.name) && p.etcdOutcomeVaries !== undefined);
    if (differences.length === 0 || varying.length !== phases.size) return differences;
    for (let run = 0; run < EXTRA_RUNS_MAX; run++) {
      const alternative = await this.alternativeRun(varying.map((p) => p.name), run);
      const candidate = compareSection(alternative, actual, section);
      if (candidate.length === 0) return candidate;
    }
    const note = `  (etcd varies in this phase; ${EXTRA_RUNS_MAX} further etcd runs did not match either)`;
    return differences.map((d) => ({ ...d, report: `${d.report}\n${note}` }));
  }

  /** The first run with the given phases replaced by their `run`-th extra etcd replay. */
  private async alternativeRun(phaseNames: string[], run: number): Promise<NormalizedStep[]> {
    const steps = this.firstRun.filter((s) => !phaseNames.includes(s.phase));
    for (const name of phaseNames) steps.push(...(await this.extraRun(name, run)));
    return steps;
  }

  private async extraRun(phaseName: string, run: number): Promise<NormalizedStep[]> {
    const runs = this.extraRuns.get(phaseName) ?? [];
    this.extraRuns.set(phaseName, runs);
    while (runs.length <= run) {
      const phase = this.session.phases.find((p) => p.name === phaseName);
      if (phase === undefined) throw new Error(`no phase ${phaseName}`);
      runs.push(await this.replayPhase(phase));
    }
    return runs[run]!;
  }
}
