// The seeded simulator over the real Raft library: a fixed set of seeds must show no
// violation, runs must replay exactly, and a deliberately broken node must be caught.
//
// The seed sweeps run the CLI (tools/raft-sim/src/main.ts, bundled with esbuild) in a child
// process: jest's sandboxed module environment runs this CPU-bound code about 4x slower.
// Longer runs: RAFT_SIM_SEEDS=5000 RAFT_SIM_STEPS=3000 RAFT_SIM_TIMEOUT_MS=7200000 npx jest -c tools/raft-sim/jest.config.js
// (or directly: bin/raft-sim --seeds 5000 --steps 3000).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { makeTempDir, removeTempDir, repoRoot } from '@keel/harness';
import { SAFETY_PROPERTIES, runSeeds, runSimulation } from '../src/testing';
import { runSimCommand } from '../src/sim-command';

const seeds = Number(process.env['RAFT_SIM_SEEDS'] ?? 300);
const steps = Number(process.env['RAFT_SIM_STEPS'] ?? 200);
const timeoutMs = Number(process.env['RAFT_SIM_TIMEOUT_MS'] ?? 150_000);

let dir = '';
let bundle = '';

beforeAll(() => {
  dir = makeTempDir('raft-sim-');
  bundle = path.join(dir, 'raft-sim.js');
  buildSync({
    entryPoints: [path.join(repoRoot, 'tools/raft-sim/src/main.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    tsconfig: path.join(repoRoot, 'tsconfig.base.json'),
    logLevel: 'warning',
  });
});

afterAll(() => {
  if (dir !== '') removeTempDir(dir);
});

function simulate(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bundle, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('raft simulator', () => {
  it(`${seeds} seeds of a 3-node cluster keep every safety property and recover`, () => {
    const run = simulate(['--seeds', String(seeds), '--seed-start', '1', '--nodes', '3', '--steps', String(steps)]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(`${seeds} seeds, 0 violations\n`);
    expect(run.status).toBe(0);
  }, timeoutMs + 5_000);

  it(`${Math.ceil(seeds / 3)} seeds of a 5-node cluster keep every safety property and recover`, () => {
    const n = Math.ceil(seeds / 3);
    const run = simulate(['--seeds', String(n), '--seed-start', '100001', '--nodes', '5', '--steps', String(steps)]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(`${n} seeds, 0 violations\n`);
    expect(run.status).toBe(0);
  }, timeoutMs + 5_000);

  it('does real work in a run: commits, crashes, membership changes, snapshots', () => {
    const summary = runSeeds({ seeds: 10, seedStart: 500, nodes: 3, steps: 300 });
    expect(summary.failures).toEqual([]);
    expect(summary.totals.acknowledged).toBeGreaterThan(10 * 30);
    expect(summary.totals.crashes).toBeGreaterThan(5);
    expect(summary.totals.confChanges).toBeGreaterThan(5);
  });

  it('replays a seed exactly', () => {
    const first = runSimulation({ seed: 4242, nodes: 3, steps: 400 });
    const second = runSimulation({ seed: 4242, nodes: 3, steps: 400 });
    expect(first.violation).toBeUndefined();
    expect(second.digest).toBe(first.digest);
    expect(second.stats).toEqual(first.stats);
    const other = runSimulation({ seed: 4243, nodes: 3, steps: 400 });
    expect(other.digest).not.toBe(first.digest);
  });

  it('catches nodes that forget their persisted state on restart', () => {
    const summary = runSeeds({ seeds: 30, seedStart: 1, nodes: 3, steps: 400, mutation: 'amnesia', stopOnViolation: false });
    const properties = new Set(summary.failures.map((f) => f.violation!.property));
    expect(summary.failures.length).toBeGreaterThan(5);
    // Besides raft's own corruption checks firing, the independent checkers see it too.
    expect([...properties].some((p) => (SAFETY_PROPERTIES as readonly string[]).includes(p))).toBe(true);
  });

  it('reports a violation with its seed, property and trace, and exits 1', () => {
    const run = simulate(['--seeds', '3', '--seed-start', '26', '--steps', '400', '--mutation', 'amnesia']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^seed 26: [a-z-]+ violated at step \d+: /);
    expect(run.stderr).toContain('trace (last events):');
    expect(run.stdout).toBe('1 seeds, 1 violations\n');
  });

  it('prints one summary line and exits 0 (in process)', () => {
    const lines: string[] = [];
    const spy = jest.spyOn(console, 'log').mockImplementation((line: string) => lines.push(line));
    try {
      expect(runSimCommand(['--seeds', '3', '--seed-start', '10', '--nodes', '5', '--steps', '150'])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual(['3 seeds, 0 violations']);
  });
});
