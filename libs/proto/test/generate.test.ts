// The checked-in generated code must be exactly what `npm run generate` produces from the
// .proto files, so nobody can edit one without the other.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const projectDir = path.resolve(__dirname, '..');
const bufBin = path.resolve(projectDir, '../../node_modules/.bin/buf');
const generatedDir = path.join(projectDir, 'src/generated');

function listFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else found.push(path.relative(root, full));
    }
  };
  walk(root);
  return found.sort();
}

describe('generated code', () => {
  let outputDir: string;

  beforeAll(() => {
    outputDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-proto-gen-'));
    // -o prefixes the template's `out` (src/generated) with the temp dir.
    execFileSync(bufBin, ['generate', '-o', outputDir], { cwd: projectDir, stdio: 'pipe' });
  }, 60_000);

  afterAll(() => {
    fs.rmSync(outputDir, { recursive: true, force: true });
  });

  it('regenerates to the same set of files', () => {
    const fresh = listFiles(path.join(outputDir, 'src/generated'));
    expect(fresh.length).toBeGreaterThan(0);
    expect(fresh).toEqual(listFiles(generatedDir));
  });

  it('regenerates every file byte for byte', () => {
    const differing = listFiles(generatedDir).filter((file) => {
      const checkedIn = fs.readFileSync(path.join(generatedDir, file));
      const fresh = fs.readFileSync(path.join(outputDir, 'src/generated', file));
      return !checkedIn.equals(fresh);
    });
    // If this fails: run `npm run generate` in libs/proto and commit the result.
    expect(differing).toEqual([]);
  });
});
