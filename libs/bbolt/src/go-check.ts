// Runs test/go/check.go — a few lines of Go over the real go.etcd.io/bbolt (Debian's Go
// sources, offline) — to open a file, run bbolt's own tx.Check and dump the contents. This is
// the external referee for the writer; tests and tools call it when `go` is installed.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const GO_CHECK_SOURCE = join(__dirname, '..', 'test', 'go', 'check.go');
const GOPATH = '/usr/share/gocode';

export interface GoBucketDump {
  inline: boolean;
  entries: Array<{ key: string; value?: string; bucket?: GoBucketDump }>;
}

/** What check.go prints: tx.Check errors, buckets with hex keys/values, page size, tx.Size(). */
export interface GoCheckReport {
  errors: string[];
  buckets: Record<string, GoBucketDump>;
  pageSize: number;
  size: number;
  txid: number;
}

function goEnv(cacheDir: string): NodeJS.ProcessEnv {
  return { ...process.env, GO111MODULE: 'off', GOPATH, GOCACHE: cacheDir, GOFLAGS: '' };
}

/** True when a Go toolchain and Debian's bbolt sources are there. */
export async function goCheckAvailable(): Promise<boolean> {
  if (!existsSync(join(GOPATH, 'src/go.etcd.io/bbolt/db.go'))) return false;
  try {
    await run('go', ['version']);
    return true;
  } catch {
    return false;
  }
}

/** Compiles check.go into `binary` (once per test run: go run would compile per file). */
export async function buildGoCheck(binary: string, cacheDir: string): Promise<void> {
  await run('go', ['build', '-o', binary, GO_CHECK_SOURCE], { env: goEnv(cacheDir), timeout: 120_000 });
}

export async function runGoCheck(binary: string, dbPath: string): Promise<GoCheckReport> {
  const { stdout } = await run(binary, [dbPath], { maxBuffer: 512 * 1024 * 1024 });
  return JSON.parse(stdout) as GoCheckReport;
}
