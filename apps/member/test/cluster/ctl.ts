// The real etcdctl (API v3) as the cluster tests drive it, and parsers for its JSON output.
// Test-only use of the workspace test harness (a tool project).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { runCommand } from '@keel/harness';

export interface CtlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CtlOptions {
  /** etcdctl's --command-timeout, e.g. '5s'. */
  commandTimeout?: string;
}

export function etcdctl(endpoints: string | string[], args: string[], options: CtlOptions = {}): Promise<CtlResult> {
  const list = Array.isArray(endpoints) ? endpoints.join(',') : endpoints;
  return runCommand(
    'etcdctl',
    [`--endpoints=${list}`, '--dial-timeout=2s', `--command-timeout=${options.commandTimeout ?? '5s'}`, ...args],
    { env: { ...process.env, ETCDCTL_API: '3' }, timeoutMs: 30_000 },
  );
}

export async function etcdctlOk(endpoints: string | string[], args: string[], options: CtlOptions = {}): Promise<string> {
  const result = await etcdctl(endpoints, args, options);
  if (result.code !== 0) {
    throw new Error(`etcdctl ${args.join(' ')} (${String(endpoints)}) exited ${result.code}: ${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

/** Retries `check` until it stops throwing; rethrows its last error at the deadline. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs: number, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

/** JSON.parse with etcd's uint64 ID fields kept exact as decimal strings (they exceed 2^53). */
function parseWithIds(text: string): unknown {
  return JSON.parse(text.replace(/("(?:cluster_id|member_id|leader|ID)"\s*:\s*)(\d+)/g, '$1"$2"'));
}

export interface MemberInfo {
  id: bigint;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

interface RawMember {
  ID: string;
  name?: string;
  peerURLs?: string[];
  clientURLs?: string[];
  isLearner?: boolean;
}

export async function memberList(endpoints: string | string[]): Promise<MemberInfo[]> {
  const raw = parseWithIds(await etcdctlOk(endpoints, ['member', 'list', '-w', 'json'])) as { members?: RawMember[] };
  return (raw.members ?? []).map((m) => ({
    id: BigInt(m.ID),
    name: m.name ?? '',
    peerUrls: m.peerURLs ?? [],
    clientUrls: m.clientURLs ?? [],
    isLearner: m.isLearner === true,
  }));
}

export interface EndpointStatus {
  endpoint: string;
  memberId: bigint;
  leaderId: bigint;
  raftTerm: number;
  raftIndex: number;
  isLeader: boolean;
}

interface RawStatus {
  Endpoint: string;
  Status: { header: { member_id: string }; leader?: string; raftTerm?: number; raftIndex?: number };
}

/** `endpoint status -w json` for each endpoint that answers (etcdctl skips the others and exits 1). */
export async function endpointStatus(endpoints: string[]): Promise<EndpointStatus[]> {
  const result = await etcdctl(endpoints, ['endpoint', 'status', '-w', 'json']);
  const text = result.stdout.trim();
  if (text === '') throw new Error(`endpoint status printed nothing: ${result.stderr}`);
  return (parseWithIds(text) as RawStatus[]).map((s) => {
    const memberId = BigInt(s.Status.header.member_id);
    const leaderId = BigInt(s.Status.leader ?? '0');
    return {
      endpoint: s.Endpoint,
      memberId,
      leaderId,
      raftTerm: s.Status.raftTerm ?? 0,
      raftIndex: s.Status.raftIndex ?? 0,
      isLeader: leaderId !== 0n && leaderId === memberId,
    };
  });
}

/** The endpoint whose member says it is the leader, once every answering endpoint agrees on one. */
export async function findLeader(endpoints: string[]): Promise<EndpointStatus> {
  const statuses = await endpointStatus(endpoints);
  const leaders = statuses.filter((s) => s.isLeader);
  const agreed = new Set(statuses.map((s) => s.leaderId));
  if (leaders.length !== 1 || agreed.size !== 1) {
    throw new Error(`no single agreed leader: ${JSON.stringify(statuses, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v))}`);
  }
  return leaders[0]!;
}

/** Value of `key` as read by one endpoint alone (serializable: no leader round trip). */
export async function localGet(endpoint: string, key: string): Promise<string> {
  return etcdctlOk(endpoint, ['get', key, '--print-value-only', '--consistency=s']);
}
