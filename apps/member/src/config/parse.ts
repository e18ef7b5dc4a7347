/**
 * Turns argv + environment into a validated MemberConfig, following etcd 3.4's order:
 * command-line flags, then `ETCD_*` variables for flags not given (a flag given both ways is
 * an error, as etcd's fatal "conflicting environment variable"), then defaults, then checks.
 */
import { readFileSync } from 'node:fs';
import { configFileValues } from './config-file';
import { envNameFor, flagSpec, FLAG_SPECS, helpText, tokenize, UsageError } from './flags';
import { ConfigError, type InitialClusterMember, type LogLevel, type MemberConfig, type ParseOutcome, type TlsConfig } from './types';
import { parseBool, parseDurationMs, parseInt64, parseUint, parseUrlList, urlHost } from './values';

export const KEEL_VERSION = '0.1.0';
const ETCD_VERSION = '3.4.23';
const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;
const MAX_ELECTION_MS = 50_000;

type Source = 'flag' | 'env' | 'file' | 'default';
/** Flags etcd declares with a selective value type, so a bad choice fails flag parsing. */
const GO_SELECTIVE_FLAGS = new Set(['initial-cluster-state', 'proxy', 'discovery-fallback']);

/** Raw flag values with where each came from. */
class RawValues {
  constructor(
    private readonly values: Map<string, { raw: string; source: Source }>,
  ) {}

  raw(name: string): string {
    const entry = this.values.get(name);
    if (entry !== undefined) return entry.raw;
    const spec = flagSpec(name);
    if (spec === undefined) throw new Error(`no flag named ${name}`);
    return spec.defaultValue;
  }

  isSet(name: string): boolean {
    return this.values.has(name);
  }

  sourceOf(name: string): Source {
    return this.values.get(name)?.source ?? 'default';
  }

  /** Converts with `convert`, turning its error into etcd's "invalid value" message. */
  typed<T>(name: string, convert: (raw: string) => T): T {
    const raw = this.raw(name);
    try {
      return convert(raw);
    } catch (err) {
      const source = this.sourceOf(name);
      const where = source === 'env' ? envNameFor(name) : source === 'file' ? `config file key ${name}` : `flag -${name}`;
      const message = `invalid value ${JSON.stringify(raw)} for ${where}: ${(err as Error).message}`;
      // etcd's flag package rejects a bad command-line value while parsing (exit 2); plain string
      // flags with a fixed set of values are verified afterwards (exit 1), as are env and file values.
      const rejectedByFlagParser = source === 'flag' && (flagSpec(name)?.choices === undefined || GO_SELECTIVE_FLAGS.has(name));
      throw rejectedByFlagParser ? new UsageError(message) : new ConfigError(message);
    }
  }

  str(name: string): string {
    return this.typed(name, (raw) => {
      const choices = flagSpec(name)?.choices;
      if (choices !== undefined && !choices.includes(raw)) throw new Error(`valid values are ${JSON.stringify(choices)}`);
      return raw;
    });
  }
  bool(name: string): boolean {
    return this.typed(name, parseBool);
  }
  uint(name: string, max?: number): number {
    return this.typed(name, (raw) => parseUint(raw, max));
  }
  int(name: string): number {
    return this.typed(name, parseInt64);
  }
  durationMs(name: string): number {
    return this.typed(name, parseDurationMs);
  }
  urls(name: string): string[] {
    return this.typed(name, (raw) => (raw === '' ? [] : parseUrlList(raw)));
  }
  strings(name: string): string[] {
    return this.typed(name, (raw) => [...new Set(raw.split(',').map((s) => s.trim()).filter((s) => s !== ''))]);
  }
}

/** Parses the command line: run with a config, or print help/version. Throws ConfigError. */
export function parseCommandLine(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): ParseOutcome {
  const tokens = tokenize(argv);
  if (tokens.help) return { kind: 'help', text: helpText() };
  const version = tokens.values.get('version');
  if (version !== undefined && parseBool(version)) return { kind: 'version', text: versionText() };
  const notices: string[] = [];
  const configFile = tokens.values.get('config-file') ?? env[envNameFor('config-file')] ?? '';
  const raw = configFile !== '' ? fromConfigFile(configFile, readFile, notices) : mergeEnvironment(tokens.values, env, notices);
  return { kind: 'run', config: buildConfig(raw, notices) };
}

/** etcd: with a config file, flags and ETCD_* variables are ignored entirely. */
function fromConfigFile(path: string, readFile: (path: string) => string, notices: string[]): RawValues {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  const { values, ignoredKeys } = configFileValues(text);
  notices.push(`loaded server configuration from ${path}; other command line flags and environment variables are ignored`);
  for (const key of ignoredKeys) notices.push(`config file key ${key} is unknown or unsupported; ignored`);
  return new RawValues(new Map([...values].map(([name, value]) => [name, { raw: value, source: 'file' as const }])));
}

/** Like parseCommandLine but for callers that only run: help/version are errors here. */
export function parseMemberConfig(argv: readonly string[], env: NodeJS.ProcessEnv): MemberConfig {
  const outcome = parseCommandLine(argv, env);
  if (outcome.kind !== 'run') throw new ConfigError(`--${outcome.kind} requested; use parseCommandLine to handle it`);
  return outcome.config;
}

export function versionText(): string {
  return [
    `etcd Version: ${ETCD_VERSION}`,
    `Keel Version: ${KEEL_VERSION}`,
    'Git SHA: Not provided',
    `Go Version: node ${process.version}`,
    `Go OS/Arch: ${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  ].join('\n') + '\n';
}

function mergeEnvironment(fromFlags: Map<string, string>, env: NodeJS.ProcessEnv, notices: string[]): RawValues {
  const merged = new Map<string, { raw: string; source: Source }>();
  for (const [name, raw] of fromFlags) merged.set(name, { raw, source: 'flag' });
  const envToFlag = new Map(FLAG_SPECS.map((spec) => [envNameFor(spec.name), spec.name]));
  for (const key of Object.keys(env).sort()) {
    if (!key.startsWith('ETCD_')) continue;
    const value = env[key] ?? '';
    const flag = envToFlag.get(key);
    if (flag === undefined) {
      notices.push(`unrecognized environment variable ${key}=${value}`);
      continue;
    }
    if (fromFlags.has(flag)) {
      throw new ConfigError(
        `conflicting environment variable "${key}" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`,
      );
    }
    if (value === '') continue;
    merged.set(flag, { raw: value, source: 'env' });
    notices.push(`recognized and used environment variable ${key}=${value}`);
  }
  return new RawValues(merged);
}

function buildConfig(v: RawValues, notices: string[]): MemberConfig {
  refuseUnsupported(v, notices);
  const name = v.str('name');
  const listenClientUrls = v.urls('listen-client-urls');
  const listenPeerUrls = v.urls('listen-peer-urls');
  const listenMetricsUrls = v.urls('listen-metrics-urls');
  const initialAdvertisePeerUrls = v.urls('initial-advertise-peer-urls');
  // etcd: an explicit --listen-client-urls without --advertise-client-urls is an error
  // (not in a config file, where the advertise default simply stays).
  const listenSource = v.sourceOf('listen-client-urls');
  if ((listenSource === 'flag' || listenSource === 'env') && !v.isSet('advertise-client-urls')) {
    throw new ConfigError('--advertise-client-urls is required when --listen-client-urls is set explicitly');
  }
  const advertiseClientUrls = v.urls('advertise-client-urls');
  checkBindUrls([...listenClientUrls, ...listenPeerUrls, ...listenMetricsUrls]);
  checkHostUrls('--initial-advertise-peer-urls', initialAdvertisePeerUrls);
  checkHostUrls('--advertise-client-urls', advertiseClientUrls);

  const initialCluster = resolveInitialCluster(v, name, initialAdvertisePeerUrls);
  const initialClusterMembers = parseInitialCluster(initialCluster);
  if (!initialClusterMembers.some((m) => m.name === name)) {
    throw new ConfigError(`couldn't find local name ${JSON.stringify(name)} in the initial cluster configuration`);
  }
  const { heartbeatIntervalMs, electionTimeoutMs } = timing(v);
  const autoCompactionMode = v.str('auto-compaction-mode') as MemberConfig['autoCompactionMode'];
  const autoCompactionRetention = v.raw('auto-compaction-retention');
  let dataDir = v.raw('data-dir');
  if (dataDir === '') {
    dataDir = `${name}.etcd`;
    notices.push(`'data-dir' was empty; using default ${dataDir}`);
  }
  const quota = v.int('quota-backend-bytes');
  return {
    name,
    dataDir,
    walDir: v.raw('wal-dir'),
    listenClientUrls,
    advertiseClientUrls,
    listenPeerUrls,
    initialAdvertisePeerUrls,
    listenMetricsUrls,
    initialCluster,
    initialClusterMembers,
    initialClusterState: v.str('initial-cluster-state') as MemberConfig['initialClusterState'],
    initialClusterToken: v.raw('initial-cluster-token'),
    forceNewCluster: v.bool('force-new-cluster'),
    snapshotCount: v.uint('snapshot-count') || 100_000,
    maxSnapshots: v.uint('max-snapshots'),
    maxWals: v.uint('max-wals'),
    heartbeatIntervalMs,
    electionTimeoutMs,
    electionTicks: Math.floor(electionTimeoutMs / heartbeatIntervalMs),
    initialElectionTickAdvance: v.bool('initial-election-tick-advance'),
    preVote: v.bool('pre-vote'),
    strictReconfigCheck: v.bool('strict-reconfig-check'),
    quotaBackendBytes: quota === 0 ? DEFAULT_QUOTA_BYTES : quota < 0 ? -1 : quota,
    maxRequestBytes: v.uint('max-request-bytes', 2 ** 32 - 1),
    maxTxnOps: v.uint('max-txn-ops', 2 ** 32 - 1),
    backendBatchIntervalMs: v.durationMs('backend-batch-interval'),
    backendBatchLimit: v.uint('backend-batch-limit'),
    maxConcurrentStreams: v.uint('max-concurrent-streams', 2 ** 32 - 1),
    autoCompactionMode,
    autoCompactionRetention,
    autoCompactionRetentionValue: parseRetention(autoCompactionMode, autoCompactionRetention),
    grpcKeepAliveMinTimeMs: v.durationMs('grpc-keepalive-min-time'),
    grpcKeepAliveIntervalMs: v.durationMs('grpc-keepalive-interval'),
    grpcKeepAliveTimeoutMs: v.durationMs('grpc-keepalive-timeout'),
    authToken: v.raw('auth-token'),
    bcryptCost: v.uint('bcrypt-cost'),
    authTokenTtlSeconds: v.uint('auth-token-ttl'),
    enableGrpcGateway: v.bool('enable-grpc-gateway'),
    enablePprof: v.bool('enable-pprof'),
    metrics: v.str('metrics'),
    logger: v.str('logger'),
    logLevel: logLevel(v),
    logOutputs: logOutputs(v),
    clientTls: tlsConfig(v, ''),
    peerTls: tlsConfig(v, 'peer-'),
    cipherSuites: v.strings('cipher-suites'),
    experimentalInitialCorruptCheck: v.bool('experimental-initial-corrupt-check'),
    experimentalCorruptCheckTimeMs: v.durationMs('experimental-corrupt-check-time'),
    experimentalEnableLeaseCheckpoint: v.bool('experimental-enable-lease-checkpoint'),
    experimentalCompactionBatchLimit: v.int('experimental-compaction-batch-limit'),
    experimentalWatchProgressNotifyIntervalMs: v.durationMs('experimental-watch-progress-notify-interval'),
    experimentalWarningApplyDurationMs: v.durationMs('experimental-warning-apply-duration'),
    unsafeNoFsync: v.bool('unsafe-no-fsync'),
    natsUrl: natsUrl(v),
    notices,
  };
}

/** Flags Keel accepts but cannot honour: refuse clearly rather than run differently from etcd. */
function refuseUnsupported(v: RawValues, notices: string[]): void {
  for (const flag of ['discovery', 'discovery-srv', 'discovery-srv-name', 'experimental-enable-v2v3']) {
    if (v.raw(flag) !== '') throw new ConfigError(`--${flag} is not supported by Keel; bootstrap with --initial-cluster`);
  }
  if (v.str('proxy') !== 'off') throw new ConfigError('--proxy is not supported by Keel (only "off"); use the Keel gateway');
  if (v.bool('enable-v2')) throw new ConfigError('--enable-v2 is not supported by Keel: only the v3 API is served');
  const unsupportedTls = ['auto-tls', 'peer-auto-tls'].filter((flag) => v.bool(flag));
  if (v.raw('cipher-suites') !== '') unsupportedTls.push('cipher-suites');
  if (unsupportedTls.length > 0) {
    throw new ConfigError(`not implemented in Keel yet: --${unsupportedTls.join(', --')} (certificate files, CAs, CRLs, client-cert auth and allowed CN/hostname are supported)`);
  }
  for (const flag of ['listen-client-urls', 'advertise-client-urls', 'listen-peer-urls', 'initial-advertise-peer-urls', 'listen-metrics-urls']) {
    const unix = v.urls(flag).filter((url) => url.startsWith('unix'));
    if (unix.length > 0) throw new ConfigError(`--${flag} ${unix.join(',')}: unix sockets are not implemented in Keel yet`);
  }
  requireTlsFilesForHttps(v, 'client', ['listen-client-urls', 'listen-metrics-urls'], 'cert-file', 'key-file');
  requireTlsFilesForHttps(v, 'peer', ['listen-peer-urls'], 'peer-cert-file', 'peer-key-file');
  for (const [flag, kind] of [['listen-client-urls', 'client'], ['listen-peer-urls', 'peer']] as const) {
    const certFlag = kind === 'client' ? 'cert-file' : 'peer-cert-file';
    if (v.raw(certFlag) !== '' && v.urls(flag).some((url) => url.startsWith('http://'))) {
      notices.push(`scheme is HTTP while key and cert files are present; ignoring key and cert files for --${flag} http:// URLs`);
    }
  }
  if (v.bool('enable-pprof')) notices.push('--enable-pprof is accepted but Keel serves no pprof endpoints (use node --cpu-prof)');
  if (v.str('logger') === 'capnslog') notices.push("--logger=capnslog: Keel always writes structured JSON logs (as 'zap')");
  for (const spec of FLAG_SPECS) if (spec.ignored && v.isSet(spec.name)) notices.push(`flag --${spec.name} is ignored`);
  if (v.raw('log-package-levels') !== '') notices.push('--log-package-levels is deprecated and ignored');
}

/** etcd: an https listen URL needs the certificate and key of its side. */
function requireTlsFilesForHttps(v: RawValues, side: string, flags: readonly string[], certFlag: string, keyFlag: string): void {
  for (const flag of flags) {
    for (const url of v.urls(flag)) {
      if (url.startsWith('https://') && (v.raw(certFlag) === '' || v.raw(keyFlag) === '')) {
        throw new ConfigError(`TLS key/cert (--${certFlag}, --${keyFlag}) must be provided for ${side} url ${url} with HTTPS scheme`);
      }
    }
  }
}

function resolveInitialCluster(v: RawValues, name: string, advertisePeerUrls: readonly string[]): string {
  const given = v.raw('initial-cluster');
  // etcd: `--name x` alone makes the default cluster "x=<advertised peer URLs>".
  if (!v.isSet('initial-cluster') && name !== 'default') return advertisePeerUrls.map((url) => `${name}=${url}`).join(',');
  return given;
}

/** "a=http://h1:2380,a=http://h1b:2380,b=http://h2:2380" → members with sorted URL lists. */
export function parseInitialCluster(text: string): InitialClusterMember[] {
  const byName = new Map<string, string[]>();
  for (const item of text.split(',')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    const name = eq >= 0 ? item.slice(0, eq) : item;
    const url = eq >= 0 ? item.slice(eq + 1) : '';
    const list = byName.get(name) ?? [];
    list.push(url);
    byName.set(name, list);
  }
  const members: InitialClusterMember[] = [];
  const seenUrls = new Set<string>();
  for (const [name, rawUrls] of byName) {
    let peerUrls: string[];
    try {
      peerUrls = parseUrlList(rawUrls.join(','));
    } catch (err) {
      throw new ConfigError(`--initial-cluster: ${(err as Error).message}`);
    }
    for (const url of peerUrls) {
      if (seenUrls.has(url)) throw new ConfigError(`--initial-cluster ${text} has duplicate url`);
      seenUrls.add(url);
    }
    members.push({ name, peerUrls });
  }
  if (members.length === 0) throw new ConfigError('--initial-cluster is empty');
  return members;
}

function timing(v: RawValues): { heartbeatIntervalMs: number; electionTimeoutMs: number } {
  const heartbeatIntervalMs = v.uint('heartbeat-interval');
  const electionTimeoutMs = v.uint('election-timeout');
  if (heartbeatIntervalMs <= 0) throw new ConfigError(`--heartbeat-interval must be >0 (set to ${heartbeatIntervalMs}ms)`);
  if (electionTimeoutMs <= 0) throw new ConfigError(`--election-timeout must be >0 (set to ${electionTimeoutMs}ms)`);
  if (5 * heartbeatIntervalMs > electionTimeoutMs) {
    throw new ConfigError(
      `--election-timeout[${electionTimeoutMs}ms] should be at least as 5 times as --heartbeat-interval[${heartbeatIntervalMs}ms]`,
    );
  }
  if (electionTimeoutMs > MAX_ELECTION_MS) {
    throw new ConfigError(`--election-timeout[${electionTimeoutMs}ms] is too long, and should be set less than ${MAX_ELECTION_MS}ms`);
  }
  return { heartbeatIntervalMs, electionTimeoutMs };
}

/** etcd's rule: a non-negative integer is hours (periodic) or revisions; otherwise a Go duration. */
function parseRetention(mode: MemberConfig['autoCompactionMode'], text: string): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return mode === 'periodic' ? n * 3_600_000 : n;
  }
  try {
    const ms = parseDurationMs(text);
    // etcd would read a duration in revision mode as nanoseconds; a count is what was meant.
    if (mode === 'revision') throw new Error('revision mode needs a whole number of revisions');
    return ms;
  } catch (err) {
    throw new ConfigError(`error parsing CompactionRetention: ${(err as Error).message}`);
  }
}

function logLevel(v: RawValues): LogLevel {
  if (v.bool('debug')) return 'debug';
  const level = v.str('log-level');
  return (level === 'dpanic' ? 'panic' : level) as LogLevel;
}

function logOutputs(v: RawValues): string[] {
  const outputs = v.isSet('log-outputs') || !v.isSet('log-output') ? v.strings('log-outputs') : v.strings('log-output');
  const specials = outputs.filter((o) => ['default', 'stderr', 'stdout'].includes(o));
  if (specials.length > 1) throw new ConfigError(`multi logoutput for journald/stderr/stdout is not supported: ${outputs.join(',')}`);
  return outputs.length === 0 ? ['default'] : outputs;
}

function tlsConfig(v: RawValues, prefix: '' | 'peer-'): TlsConfig {
  return {
    certFile: v.raw(`${prefix}cert-file`),
    keyFile: v.raw(`${prefix}key-file`),
    trustedCaFile: v.raw(`${prefix}trusted-ca-file`),
    clientCertAuth: v.bool(`${prefix}client-cert-auth`),
    crlFile: v.raw(prefix === '' ? 'client-crl-file' : 'peer-crl-file'),
    autoTls: v.bool(`${prefix}auto-tls`),
    allowedCn: prefix === 'peer-' ? v.raw('peer-cert-allowed-cn') : '',
    allowedHostname: v.raw(prefix === '' ? 'client-cert-allowed-hostname' : 'peer-cert-allowed-hostname'),
  };
}

function natsUrl(v: RawValues): string {
  return v.typed('nats-url', (raw) => {
    if (raw === '') return '';
    for (const part of raw.split(',')) {
      const url = new URL(part.trim());
      if (!['nats:', 'tls:', 'ws:', 'wss:'].includes(url.protocol)) throw new Error('expected nats://host:port');
    }
    return raw;
  });
}

/** etcd's checkBindURLs: a listen URL's host must be an IP address or "localhost". */
function checkBindUrls(urls: readonly string[]): void {
  for (const url of urls) {
    const host = urlHost(url);
    if (host === 'localhost') continue;
    if (!isIpAddress(host)) throw new ConfigError(`expected IP in URL for binding (${url})`);
  }
}

function checkHostUrls(flag: string, urls: readonly string[]): void {
  for (const url of urls) {
    if (urlHost(url) === '') {
      throw new ConfigError(`${flag} ${JSON.stringify(urls.join(','))} must be "host:port" (unexpected empty host (${url}))`);
    }
  }
}

function isIpAddress(host: string): boolean {
  return /^(\d{1,3}\.){3}\d{1,3}$/.test(host) || (host.includes(':') && /^[0-9a-fA-F:.]+$/.test(host));
}

/**
 * etcd's bootstrap check (new cluster, empty data dir only): this member's URLs in
 * --initial-cluster must be exactly its --initial-advertise-peer-urls. Not part of parsing
 * because etcd skips it when the member restarts from existing data.
 */
export function checkBootstrapUrls(config: MemberConfig): void {
  const local = config.initialClusterMembers.find((m) => m.name === config.name);
  if (local === undefined) {
    throw new ConfigError(`couldn't find local name ${JSON.stringify(config.name)} in the initial cluster configuration`);
  }
  const advertised = new Set(config.initialAdvertisePeerUrls);
  const missing = local.peerUrls.filter((url) => !advertised.has(url));
  if (missing.length > 0) {
    throw new ConfigError(
      `--initial-cluster has ${missing.map((url) => `${config.name}=${url}`).join(',')} but missing from --initial-advertise-peer-urls=${config.initialAdvertisePeerUrls.join(',')}`,
    );
  }
  const inCluster = new Set(local.peerUrls);
  const extra = config.initialAdvertisePeerUrls.filter((url) => !inCluster.has(url));
  if (extra.length > 0) {
    throw new ConfigError(
      `--initial-advertise-peer-urls has ${extra.join(',')} but missing from --initial-cluster=${local.peerUrls.map((url) => `${config.name}=${url}`).join(',')}`,
    );
  }
}
