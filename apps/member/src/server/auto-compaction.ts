// --auto-compaction-mode/--auto-compaction-retention, run by the leader only:
// - revision: keep the last `retention` revisions (compact to current − retention);
// - periodic: keep `retention` ms of history (compact to the revision current `retention` ago),
//   checked every retention/10 (at most every hour, as etcd does for long retentions).
import type { Logger } from 'pino';
import type { Proposer } from './proposer';

export interface AutoCompactionDeps {
  mode: 'periodic' | 'revision';
  /** Milliseconds (periodic) or revisions (revision); 0 disables. */
  retention: number;
  isLeader(): boolean;
  currentRevision(): number;
  compactRevision(): number;
  proposer: Pick<Proposer, 'propose'>;
  logger: Logger;
  /** Check interval for revision mode. */
  revisionCheckMs?: number;
}

const HOUR_MS = 3_600_000;

export function startAutoCompaction(deps: AutoCompactionDeps): () => void {
  if (deps.retention <= 0) return () => undefined;
  const samples: Array<{ at: number; revision: number }> = [];
  let busy = false;

  const compactTo = (revision: number) => {
    if (busy || revision <= deps.compactRevision()) return;
    busy = true;
    deps.proposer
      .propose({ $case: 'compaction', value: { revision: BigInt(revision), physical: false } })
      .then(() => deps.logger.info({ revision }, 'auto compaction done'))
      .catch((err: unknown) => deps.logger.warn({ err, revision }, 'auto compaction failed'))
      .finally(() => (busy = false));
  };

  const tick = () => {
    if (!deps.isLeader()) return;
    if (deps.mode === 'revision') {
      compactTo(deps.currentRevision() - deps.retention);
      return;
    }
    const now = Date.now();
    samples.push({ at: now, revision: deps.currentRevision() });
    let target = 0;
    while (samples.length > 0 && samples[0]!.at <= now - deps.retention) target = samples.shift()!.revision;
    if (target > 0) compactTo(target);
  };

  const intervalMs =
    deps.mode === 'revision' ? (deps.revisionCheckMs ?? 1000) : Math.max(100, Math.min(deps.retention / 10, HOUR_MS));
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
