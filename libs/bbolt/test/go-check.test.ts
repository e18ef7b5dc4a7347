// The external referee: files this library writes are opened by the real go.etcd.io/bbolt,
// which must find no errors in tx.Check and read back exactly what was written.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGoCheck, goCheckAvailable, type GoCheckReport, runGoCheck } from '../src';
import { type Contents, layoutCases, writeContents } from './fixtures';

let dir: string;
let binary: string;
let available = false;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keel-bbolt-go-'));
  available = await goCheckAvailable();
  if (!available) {
    console.warn('SKIPPED: go or Debian\'s go.etcd.io/bbolt sources are missing; the real-bbolt check did not run');
    return;
  }
  binary = join(dir, 'check');
  await buildGoCheck(binary, '/tmp/gocache');
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function asHex(contents: Contents): Record<string, Array<{ key: string; value: string }>> {
  return Object.fromEntries(contents.map(({ name, entries }) => [name, entries.map(([k, v]) => ({ key: k.toString('hex'), value: v.toString('hex') }))]));
}

function fromReport(report: GoCheckReport): Record<string, Array<{ key: string; value: string }>> {
  return Object.fromEntries(Object.entries(report.buckets).map(([name, b]) => [name, b.entries.map((e) => ({ key: e.key, value: e.value ?? '' }))]));
}

describe('files checked by the real bbolt', () => {
  it('every layout case passes tx.Check and reads back identically', async () => {
    if (!available) return;
    const path = join(dir, 'cases.db');
    const contents = layoutCases();
    const summary = await writeContents(path, contents);
    const report = await runGoCheck(binary, path);
    expect(report.errors).toEqual([]);
    expect(report.pageSize).toBe(4096);
    expect(report.size).toBe(summary.bytes);
    expect(fromReport(report)).toEqual(asHex(contents));
    expect(Object.fromEntries(Object.entries(report.buckets).map(([n, b]) => [n, b.inline]))).toEqual({
      'a-empty': true,
      'b-small': true,
      'c-many': false,
      'd-big': false,
      'e-longkeys': false,
    });
  });

  it('an empty database opens and checks clean', async () => {
    if (!available) return;
    const path = join(dir, 'empty.db');
    await writeContents(path, []);
    const report = await runGoCheck(binary, path);
    expect(report).toMatchObject({ errors: [], buckets: {}, size: 4 * 4096 });
  });
});
