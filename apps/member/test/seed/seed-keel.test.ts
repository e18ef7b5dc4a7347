// Acceptance (issue 4): the seed document's single-member session, replayed with the real
// etcdctl against bin/member, must print what real etcd prints. Both replays run in this test
// run; each seed section is compared step by step after normalization (normalize.ts lists what
// is normalized — revisions, raft terms/indexes and the server version are not).
import fs from 'node:fs';
import path from 'node:path';
// eslint-disable-next-line @nx/enforce-module-boundaries -- test-only dependency on the process/port harness
import { binPath, killAll, removeTempDirs, runCommand } from '@keel/harness';
import { formatDifferences, formatTranscript } from './compare';
import { EtcdReference } from './reference';
import { normalizeTranscript, replaySession, stopAllCommands, type NormalizedStep } from './replay';
import { SECTIONS, SEED_SESSION, type Section } from './session';

let fromEtcd: NormalizedStep[];
let fromKeel: NormalizedStep[];
let reference: EtcdReference;

afterAll(async () => {
  // replaySession stops its members and commands itself; this covers a run aborted by a timeout.
  stopAllCommands();
  await killAll();
  removeTempDirs();
});

beforeAll(async () => {
  fromEtcd = normalizeTranscript(await replaySession(SEED_SESSION, { command: 'etcd' }));
  reference = new EtcdReference(SEED_SESSION, fromEtcd);
  // bin/member rebuilds dist/ when sources changed; do that once up front (the output does not
  // matter) so each member start below gets the same, shorter allowance.
  await runCommand(binPath('member'), ['--version'], { timeoutMs: 120_000 });
  fromKeel = normalizeTranscript(await replaySession(SEED_SESSION, { command: binPath('member'), startTimeoutMs: 20_000 }));
  // KEEL_SEED_DUMP=<dir> keeps both normalized transcripts for reading side by side.
  const dumpDir = process.env['KEEL_SEED_DUMP'];
  if (dumpDir !== undefined && dumpDir !== '') {
    fs.mkdirSync(dumpDir, { recursive: true });
    fs.writeFileSync(path.join(dumpDir, 'etcd.txt'), formatTranscript(fromEtcd));
    fs.writeFileSync(path.join(dumpDir, 'member.txt'), formatTranscript(fromKeel));
  }
}, 300_000);

/**
 * Seed sections bin/member does not yet reproduce, with the reason (see the issue notes).
 */
const KNOWN_KEEL_GAPS: Partial<Record<Section, string>> = {};

async function expectSectionMatches(section: Section): Promise<void> {
  const differences = await reference.differences(fromKeel, section);
  // The report is the failure message itself: one block per differing step with a line diff.
  if (differences.length > 0) throw new Error(formatDifferences(differences, 'etcd 3.4', 'bin/member'));
  expect(differences).toEqual([]);
}

describe('seed session: bin/member prints what etcd prints', () => {
  it('the reference replay against etcd ran every step of every section', () => {
    expect(new Set(fromEtcd.map((s) => s.section))).toEqual(new Set(SECTIONS));
    expect(fromEtcd.filter((s) => s.exit === 'not-run').map((s) => `${s.key}: ${s.stderr}`)).toEqual([]);
  });

  // A section of a phase where etcd varies may replay that phase against etcd again (EtcdReference).
  const matching = SECTIONS.filter((section) => !(section in KNOWN_KEEL_GAPS));
  // The allowance covers EXTRA_RUNS_MAX further etcd replays of a varying phase (~7 s each).
  it.each(matching.map((section) => [section]))('%s', (section) => expectSectionMatches(section), 180_000);

  // Known gaps: each is asserted to still differ, so fixing one turns its test red until the
  // entry is removed.
  for (const [section, reason] of Object.entries(KNOWN_KEEL_GAPS)) {
    it.failing(`${section} (known gap: ${reason})`, () => expectSectionMatches(section as Section), 60_000);
  }
});
