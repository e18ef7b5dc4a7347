import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import path from 'node:path';

/** Repository root, for finding bin/ launchers from any test file. */
export const repoRoot = path.resolve(__dirname, '../../..');

export function binPath(program: string): string {
  return path.join(repoRoot, 'bin', program);
}

export interface ManagedProcess {
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far (for failure messages). */
  output(): string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

const running = new Set<ManagedProcess>();

/**
 * Starts a process whose output is captured and which is killed by killAll() or when the
 * test process exits, so a failing test never leaves servers behind.
 */
export function startProcess(command: string, args: string[], options: SpawnOptions = {}): ManagedProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  const chunks: string[] = [];
  const outputLimitChars = 1_000_000;
  let size = 0;
  const collect = (data: Buffer) => {
    if (size > outputLimitChars) return;
    const text = data.toString();
    size += text.length;
    chunks.push(text);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  const managed: ManagedProcess = {
    child,
    output: () => chunks.join(''),
    exited,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const result = await exited;
      running.delete(managed);
      return result;
    },
  };
  running.add(managed);
  void exited.then(() => running.delete(managed));
  return managed;
}

export async function killAll(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  await Promise.all([...running].map((p) => p.kill(signal)));
}

process.once('exit', () => {
  for (const p of running) p.child.kill('SIGKILL');
});

/** Runs a command to completion and returns its exit code and output. */
export function runCommand(
  command: string,
  args: string[],
  options: SpawnOptions & { input?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // A command may exit before reading its input: that EPIPE is not the test's failure.
    child.stdin?.on('error', () => undefined);
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}
