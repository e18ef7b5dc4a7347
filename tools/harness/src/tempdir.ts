import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const created = new Set<string>();

/** A fresh directory under the OS temp dir; removed by removeTempDirs() (or at exit). */
export function makeTempDir(prefix = 'keel-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  created.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  created.delete(dir);
}

export function removeTempDirs(): void {
  for (const dir of [...created]) removeTempDir(dir);
}

process.once('exit', removeTempDirs);
