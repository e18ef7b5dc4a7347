// Runs a TypeScript entry point of this project (benchmark, fixture capture) under plain
// node 20: esbuild bundles it to a temp file first, leaving npm packages external.
// Usage: node scripts/run-ts.mjs <file.ts> [args...]
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run-ts.mjs <file.ts> [args...]');
  process.exit(2);
}
const projectDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Inside the project (tmp/ is git-ignored) so that external packages resolve from the
// workspace node_modules.
fs.mkdirSync(path.join(projectDir, 'tmp'), { recursive: true });
const outDir = fs.mkdtempSync(path.join(projectDir, 'tmp', 'run-'));
const outfile = path.join(outDir, 'entry.cjs');
try {
  await build({
    entryPoints: [path.resolve(entry)],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    outfile,
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  const result = spawnSync(process.execPath, ['--enable-source-maps', outfile, ...args], { stdio: 'inherit' });
  process.exitCode = result.status ?? 1;
} finally {
  fs.rmSync(outDir, { recursive: true, force: true });
}
