// Bundles every runnable program (apps and tools) into dist/<name>/main.js with esbuild.
// Workspace libraries (@keel/*) are bundled in; npm packages stay external and load from
// node_modules at run time (RocksDB is a native addon and cannot be bundled anyway).
// Type checking is not done here: that is the `typecheck` target's job.
import { build } from 'esbuild';
import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const programs = {
  member: 'apps/member/src/main.ts',
  gateway: 'apps/gateway/src/main.ts', // not built yet: skipped while the file is missing
  'backup-agent': 'apps/backup-agent/src/main.ts', // not built yet: skipped while the file is missing
  keelutl: 'tools/keelutl/src/main.ts',
  benchmark: 'tools/benchmark/src/main.ts',
  'raft-sim': 'tools/raft-sim/src/main.ts',
};

// Worker-thread and child-process entry points that programs start by file name.
const extraEntries = {
  'benchmark/worker': 'tools/benchmark/src/worker.ts',
  'member/frontend-worker': 'apps/member/src/frontend/worker.ts',
};

const keepNpmPackagesExternal = {
  name: 'npm-external',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@keel/')) return undefined;
      return { path: args.path, external: true };
    });
  },
};

async function main() {
  const wanted = process.argv.slice(2);
  const entries = { ...programs, ...extraEntries };
  const entryPoints = {};
  for (const [name, file] of Object.entries(entries)) {
    if (wanted.length && !wanted.includes(name.split('/')[0])) continue;
    if (!existsSync(path.join(root, file))) continue;
    entryPoints[`${name.includes('/') ? name : `${name}/main`}`] = path.join(root, file);
  }
  await build({
    entryPoints,
    outdir: path.join(root, 'dist'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    tsconfig: path.join(root, 'tsconfig.base.json'),
    plugins: [keepNpmPackagesExternal],
    logLevel: 'warning',
  });
  mkdirSync(path.join(root, 'dist'), { recursive: true });
  writeFileSync(path.join(root, 'dist/.stamp'), new Date().toISOString() + '\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
