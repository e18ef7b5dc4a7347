// Replays the seed session (session.ts) with the real etcdctl against a member command — real
// `etcd` or Keel's bin/member, started with identical flags — and records every step's stdout,
// stderr and exit status. normalize.ts and compare.ts turn two such transcripts into a diff.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
// eslint-disable-next-line @nx/enforce-module-boundaries -- test-only dependency on the process/port harness
import { freePorts, makeTempDir, removeTempDir, startProcess, waitForPort, type ManagedProcess } from '@keel/harness';
import { normalizeOutput, type NormalizeContext } from './normalize';
import {
  PLACEHOLDERS,
  type CollectStep,
  type FillStep,
  type Phase,
  type Section,
  type Session,
  type StartBackgroundStep,
  type Step,
  type Word,
} from './session';

export { normalizeOutput, type NormalizeContext } from './normalize';

export interface StepRecord {
  readonly phase: string;
  readonly id: string;
  readonly section: Section;
  /** etcdctl's arguments after --endpoints, as run (IDs/ports not yet normalized). */
  readonly argv: readonly string[];
  readonly stdout: string;
  readonly stderr: string;
  /** Exit code, the signal that ended a background command, or 'not-run'. */
  readonly exit: number | string;
}

export interface PhaseRecord extends NormalizeContext {
  readonly name: string;
  /** Why the member could not be started (then every step of the phase is 'not-run'). */
  readonly startError?: string;
}

export interface Transcript {
  readonly command: string;
  readonly phases: readonly PhaseRecord[];
  readonly steps: readonly StepRecord[];
}

export interface ReplayOptions {
  /** `etcd`, or binPath('member'). */
  readonly command: string;
  readonly etcdctl?: string;
  /** Time allowed for the member to answer its first health check (bin/member may rebuild first). */
  readonly startTimeoutMs?: number;
}

const COMMAND_TIMEOUT_MS = 20_000;
/** After a background command printed what was expected, how long to keep listening for extras. */
const EXTRA_OUTPUT_GRACE_MS = 300;

interface CommandResult {
  stdout: string;
  stderr: string;
  exit: number | string;
}

/** etcdctl's environment: this process's, without ETCDCTL_* settings that would change its output. */
function etcdctlEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('ETCDCTL_')) env[name] = value;
  env['ETCDCTL_API'] = '3';
  return env;
}

/** Largest output kept per stream: the biggest legitimate one is a 1 MiB value as base64 JSON. */
const OUTPUT_CHARS_MAX = 8 * 1024 * 1024;

function appendBounded(text: string, data: Buffer): string {
  if (text.length >= OUTPUT_CHARS_MAX) return text;
  const joined = text + data.toString();
  return joined.length > OUTPUT_CHARS_MAX ? `${joined.slice(0, OUTPUT_CHARS_MAX)}\n<output cut at ${OUTPUT_CHARS_MAX} chars>` : joined;
}

/** Every etcdctl still running, so an aborted test run can stop them (see stopAllCommands). */
const runningCommands = new Set<ChildProcess>();

/** Kills every etcdctl this module started that is still running (for afterAll). */
export function stopAllCommands(): void {
  for (const child of runningCommands) child.kill('SIGKILL');
}

process.once('exit', stopAllCommands);

function spawnCollecting(command: string, args: readonly string[], cwd: string, stdin?: Buffer | string) {
  const child = spawn(command, [...args], { cwd, env: etcdctlEnv(), stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  const result: CommandResult = { stdout: '', stderr: '', exit: 'running' };
  child.stdout?.on('data', (d: Buffer) => (result.stdout = appendBounded(result.stdout, d)));
  child.stderr?.on('data', (d: Buffer) => (result.stderr = appendBounded(result.stderr, d)));
  const done = new Promise<CommandResult>((resolve) => {
    child.once('error', (err) => {
      runningCommands.delete(child);
      result.stderr += String(err);
      result.exit = 'spawn-error';
      resolve(result);
    });
    child.once('close', (code, signal) => {
      runningCommands.delete(child);
      result.exit = code ?? signal ?? 'unknown';
      resolve(result);
    });
  });
  runningCommands.add(child);
  if (stdin !== undefined) child.stdin?.end(stdin);
  return { child, result, done };
}

async function runToCompletion(etcdctl: string, args: readonly string[], cwd: string, stdin?: Buffer | string) {
  const run = spawnCollecting(etcdctl, args, cwd, stdin);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
  try {
    return await run.done;
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Deterministic bytes (xorshift32), so etcd and Keel store identical values. */
export function pseudoRandomBytes(size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size);
  let state = seed >>> 0 || 1;
  for (let at = 0; at + 4 <= size; at += 4) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    bytes.writeUInt32LE(state, at);
  }
  return bytes;
}

interface RunningPhase {
  readonly phase: Phase;
  readonly etcdctl: string;
  readonly workDir: string;
  readonly endpoint: string;
  readonly records: StepRecord[];
  readonly background: Map<string, ReturnType<typeof spawnCollecting>>;
}

function resolveWord(word: Word, running: RunningPhase): string {
  if (typeof word === 'string') return word;
  const source = running.records.find((r) => r.id === word.headerRevisionOf);
  const revision = /"revision":(\d+)/.exec(source?.stdout ?? '')?.[1];
  // Without a revision the command still runs, and fails visibly, as a typo would.
  return revision ?? `<no revision in ${word.headerRevisionOf}>`;
}

async function runStep(step: Step, running: RunningPhase): Promise<void> {
  const argv = 'argv' in step ? step.argv.map((w) => resolveWord(w, running)) : [];
  const args = [`--endpoints=${running.endpoint}`, ...argv];
  const record = (result: CommandResult, recordedArgv: readonly string[] = argv) =>
    running.records.push({ phase: running.phase.name, id: step.id, section: step.section, argv: recordedArgv, ...result });
  switch (step.kind) {
    case 'run': {
      record(await runToCompletion(running.etcdctl, args, running.workDir, step.stdin));
      if (step.pauseAfterMs !== undefined) await sleep(step.pauseAfterMs);
      return;
    }
    case 'start-background':
      return startBackground(step, args, running);
    case 'collect-background': {
      const result = await collectBackground(step, running);
      const started = running.records.find((r) => r.id === step.backgroundId);
      record(result, started?.argv ?? []);
      return;
    }
    case 'fill-until-failure':
      record(await fillUntilFailure(step, args, running));
      return;
  }
}

async function startBackground(step: StartBackgroundStep, args: readonly string[], running: RunningPhase) {
  running.background.set(step.id, spawnCollecting(running.etcdctl, args, running.workDir));
  running.records.push({
    phase: running.phase.name, id: step.id, section: step.section, argv: args.slice(1), stdout: '', stderr: '', exit: 'started',
  });
  await sleep(step.settleMs);
}

async function collectBackground(step: CollectStep, running: RunningPhase): Promise<CommandResult> {
  const job = running.background.get(step.backgroundId);
  if (job === undefined) return { stdout: '', stderr: `no background step ${step.backgroundId}`, exit: 'not-run' };
  const deadline = Date.now() + step.timeoutMs;
  const lineCount = () => job.result.stdout.split('\n').length - 1;
  while (lineCount() < step.lines && Date.now() < deadline && job.result.exit === 'running') await sleep(20);
  await sleep(EXTRA_OUTPUT_GRACE_MS);
  stopChild(job.child);
  running.background.delete(step.backgroundId);
  return job.done;
}

function stopChild(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
}

/** The seed's `while [ 1 ]; do dd … | etcdctl put key || break; done`, one record for the loop. */
async function fillUntilFailure(step: FillStep, args: readonly string[], running: RunningPhase): Promise<CommandResult> {
  const total: CommandResult = { stdout: '', stderr: '', exit: 'not-run' };
  for (let i = 0; i < step.maxIterations; i++) {
    const value = pseudoRandomBytes(step.valueBytes, step.randomSeed + i);
    const result = await runToCompletion(running.etcdctl, args, running.workDir, value);
    total.stdout += result.stdout;
    total.stderr += result.stderr;
    total.exit = result.exit;
    if (result.exit !== 0) break;
    await sleep(step.pauseBetweenMs);
  }
  return total;
}

function substitute(flags: readonly string[], values: Record<string, string>): string[] {
  return flags.map((flag) => Object.entries(values).reduce((text, [key, value]) => text.split(key).join(value), flag));
}

interface StartedMember {
  readonly process: ManagedProcess;
  readonly memberId?: string;
  readonly clusterId?: string;
}

async function waitHealthy(etcdctl: string, endpoint: string, workDir: string, member: ManagedProcess, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let last: CommandResult = { stdout: '', stderr: 'no health check ran', exit: 'not-run' };
  while (Date.now() < deadline) {
    if (member.child.exitCode !== null || member.child.signalCode !== null) {
      throw new Error(`member exited (${String(member.child.exitCode ?? member.child.signalCode)})`);
    }
    last = await runToCompletion(etcdctl, [`--endpoints=${endpoint}`, '--command-timeout=2s', 'endpoint', 'health'], workDir);
    if (last.exit === 0) return;
    await sleep(200);
  }
  throw new Error(`not healthy after ${timeoutMs} ms: ${last.stdout}${last.stderr}`);
}

/** Starts the member, waits until it answers a health check, and reads its IDs (readIds). */
async function startMember(options: ReplayOptions, flags: string[], endpoint: string, clientPort: number, workDir: string) {
  const etcdctl = options.etcdctl ?? 'etcdctl';
  const member = startProcess(options.command, flags, { cwd: workDir });
  try {
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    const portOpen = waitForPort(clientPort, timeoutMs);
    portOpen.catch(() => undefined); // if the member exits first, the race below has moved on
    await Promise.race([portOpen, member.exited]);
    await waitHealthy(etcdctl, endpoint, workDir, member, timeoutMs);
  } catch (err) {
    await member.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n--- member output (tail) ---\n${member.output().slice(-3000)}`);
  }
  return { process: member, ...(await readIds(etcdctl, endpoint, workDir)) };
}

/**
 * The member's and cluster's IDs from a response header, for the normalizer. Read-only calls
 * that add no raft entry; the second is a fallback for a server whose Status call is broken, so
 * that its other output can still be compared.
 */
async function readIds(etcdctl: string, endpoint: string, workDir: string) {
  for (const call of [['member', 'list'], ['endpoint', 'status']]) {
    const result = await runToCompletion(etcdctl, [`--endpoints=${endpoint}`, ...call, '-w', 'json'], workDir);
    const memberId = /"member_id":(\d+)/.exec(result.stdout)?.[1];
    const clusterId = /"cluster_id":(\d+)/.exec(result.stdout)?.[1];
    if (memberId !== undefined && clusterId !== undefined) return { memberId, clusterId };
  }
  return {};
}

async function replayPhase(phase: Phase, options: ReplayOptions, records: StepRecord[]): Promise<PhaseRecord> {
  const workDir = makeTempDir('keel-seed-');
  const [clientPort, peerPort] = (await freePorts(2)) as [number, number];
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const endpoint = phase.endpointForm === 'url' ? clientUrl : `127.0.0.1:${clientPort}`;
  const flags = substitute(phase.memberFlags, {
    [PLACEHOLDERS.clientUrl]: clientUrl,
    [PLACEHOLDERS.peerUrl]: `http://127.0.0.1:${peerPort}`,
    [PLACEHOLDERS.dataDir]: path.join(workDir, 'default.etcd'),
  });
  const base = { name: phase.name, clientPort, peerPort, workDir };
  let member: StartedMember;
  try {
    member = await startMember(options, flags, endpoint, clientPort, workDir);
  } catch (err) {
    const startError = `member did not start: ${(err as Error).message}`;
    // The full reason once, on the phase's first step; a one-line pointer on the others.
    phase.steps.forEach((step, index) => {
      const stderr = index === 0 ? startError : `member of phase "${phase.name}" did not start`;
      records.push({ phase: phase.name, id: step.id, section: step.section, argv: [], stdout: '', stderr, exit: 'not-run' });
    });
    removeTempDir(workDir);
    return { ...base, startError };
  }
  const running: RunningPhase = { phase, etcdctl: options.etcdctl ?? 'etcdctl', workDir, endpoint, records, background: new Map() };
  try {
    for (const step of phase.steps) await runStep(step, running);
  } finally {
    for (const job of running.background.values()) stopChild(job.child);
    await Promise.all([...running.background.values()].map((job) => job.done));
    await member.process.kill('SIGKILL');
    removeTempDir(workDir);
  }
  return { ...base, memberId: member.memberId, clusterId: member.clusterId };
}

/** Replays every phase in order; each phase runs on a fresh member that is killed afterwards. */
export async function replaySession(session: Session, options: ReplayOptions): Promise<Transcript> {
  const steps: StepRecord[] = [];
  const phases: PhaseRecord[] = [];
  for (const phase of session.phases) phases.push(await replayPhase(phase, options, steps));
  return { command: options.command, phases, steps };
}

/** A step's output with run-specific values replaced (see normalize.ts for the list). */
export interface NormalizedStep {
  readonly phase: string;
  /** "<phase> / <step id>", unique in a session. */
  readonly key: string;
  readonly section: Section;
  readonly command: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly exit: string;
}

export function normalizeTranscript(transcript: Transcript): NormalizedStep[] {
  return transcript.steps.map((step) => {
    const context = transcript.phases.find((p) => p.name === step.phase) ?? {};
    const normalize = (text: string) => normalizeOutput(text, context);
    return {
      phase: step.phase,
      key: `${step.phase} / ${step.id}`,
      section: step.section,
      command: normalize(`etcdctl ${step.argv.join(' ')}`),
      stdout: normalize(step.stdout),
      stderr: normalize(step.stderr),
      exit: String(step.exit),
    };
  });
}
