// Step-by-step comparison of two normalized transcripts, with a readable line diff per
// differing step, for failure messages and the status report.
import type { NormalizedStep } from './replay';
import type { Section } from './session';

export interface StepDifference {
  readonly phase: string;
  readonly key: string;
  readonly report: string;
}

/** Differences between `expected` (real etcd) and `actual` (the server under test) in one section. */
export function compareSection(expected: readonly NormalizedStep[], actual: readonly NormalizedStep[], section: Section): StepDifference[] {
  const differences: StepDifference[] = [];
  for (const want of expected.filter((s) => s.section === section)) {
    const got = actual.find((s) => s.key === want.key);
    if (got === undefined) {
      differences.push({ phase: want.phase, key: want.key, report: `${want.key}: step missing from the transcript under test` });
      continue;
    }
    const parts: string[] = [];
    if (got.command !== want.command) parts.push(fieldDiff('command', want.command, got.command));
    if (got.exit !== want.exit) parts.push(`  exit: expected ${want.exit}, got ${got.exit}`);
    if (got.stdout !== want.stdout) parts.push(fieldDiff('stdout', want.stdout, got.stdout));
    if (got.stderr !== want.stderr) parts.push(fieldDiff('stderr', want.stderr, got.stderr));
    if (parts.length > 0) differences.push({ phase: want.phase, key: want.key, report: [`${want.key}: ${want.command}`, ...parts].join('\n') });
  }
  return differences;
}

export function formatDifferences(differences: readonly StepDifference[], expectedLabel: string, actualLabel: string): string {
  if (differences.length === 0) return 'no differences';
  return [`${differences.length} step(s) differ ("-" ${expectedLabel}, "+" ${actualLabel}):`, ...differences.map((d) => d.report)].join('\n\n');
}

const MAX_DIFF_LINES = 60;

function fieldDiff(name: string, expected: string, actual: string): string {
  const lines = lineDiff(expected.split('\n'), actual.split('\n'));
  const shown = lines.length > MAX_DIFF_LINES ? [...lines.slice(0, MAX_DIFF_LINES), `    … ${lines.length - MAX_DIFF_LINES} more`] : lines;
  return [`  ${name}:`, ...shown].join('\n');
}

/** Longest-common-subsequence line diff; inputs are short (etcdctl output of one command). */
export function lineDiff(expected: readonly string[], actual: readonly string[]): string[] {
  const rows = expected.length;
  const cols = actual.length;
  // common[i][j] = LCS length of expected[i..] and actual[j..]
  const common: number[][] = Array.from({ length: rows + 1 }, () => new Array<number>(cols + 1).fill(0));
  for (let i = rows - 1; i >= 0; i--) {
    for (let j = cols - 1; j >= 0; j--) {
      common[i]![j] = expected[i] === actual[j] ? common[i + 1]![j + 1]! + 1 : Math.max(common[i + 1]![j]!, common[i]![j + 1]!);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < rows || j < cols) {
    if (i < rows && j < cols && expected[i] === actual[j]) {
      out.push(`    ${expected[i++]}`);
      j++;
    } else if (i < rows && (j === cols || common[i + 1]![j]! >= common[i]![j + 1]!)) {
      out.push(`  - ${expected[i++]}`);
    } else {
      out.push(`  + ${actual[j++]}`);
    }
  }
  return out;
}

/** A whole normalized transcript as text, one block per step (for KEEL_SEED_DUMP in seed-keel.test.ts). */
export function formatTranscript(steps: readonly NormalizedStep[]): string {
  return steps
    .map((s) => [`### ${s.key} [${s.section}] exit=${s.exit}`, `$ ${s.command}`, s.stdout, '--- stderr', s.stderr].join('\n'))
    .join('\n');
}
