// The size model against real bbolt: every fixture was produced by reference/gen.go running
// the same script on a bbolt file opened as etcd 3.4 opens its backend; the model must report
// exactly the same size and size-in-use after every commit.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeFigures, type ReferenceFixture, replayScript } from './reference/replay';

const fixturesDir = join(__dirname, 'fixtures');
const fixtures: ReferenceFixture[] = readdirSync(fixturesDir)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => JSON.parse(readFileSync(join(fixturesDir, name), 'utf8')) as ReferenceFixture);

describe('bbolt size model matches real bbolt', () => {
  it('has the fixtures the brief asks for', () => {
    expect(fixtures.map((f) => f.name)).toEqual(
      expect.arrayContaining(['paced-1mib', 'small-puts-commit-1', 'small-puts-commit-1000', 'overwrite-one-key', 'compact-then-puts', 'defrag']),
    );
  });

  it.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, fixture) => {
    expect(fixture.pageSize).toBe(4096);
    const { figures, model } = replayScript(fixture.steps);
    model.checkPages();
    expect(encodeFigures(figures)).toEqual(fixture.figures);
  });
});

describe('the paced 1 MiB sequence', () => {
  it('reports what etcd 3.4.23 reported for the seed quota story', () => {
    const fixture = fixtures.find((f) => f.name === 'paced-1mib')!;
    const { figures } = replayScript(fixture.steps);
    // Measured with real etcd 3.4.23 (endpoint status after each step, 500 ms apart):
    // after `put k v1`, then after each 1 MiB put.
    const etcd = [20480, 1073152, 3174400, 6324224, 9474048, 9474048, 12623872, 12623872, 15773696];
    expect(figures.slice(2, 11).map((f) => f.size)).toEqual(etcd);
    expect(figures.slice(2, 11).map((f) => f.inUse)).toEqual([16384, 1069056, 3170304, 5267456, 7372800, 8425472, 10526720, 10526720, 12627968]);
    // etcd's quota rule refuses the 9th: size + cost must stay below the quota.
    const quota = 16 * 1024 * 1024;
    const cost = 256 + 3 + 1024 * 1024;
    expect(figures[10]!.size + cost < quota).toBe(false);
    expect(figures[9]!.size + cost < quota).toBe(true);
  });
});
