/**
 * The member's flag table (etcd 3.4 names and defaults) and a command-line tokenizer with
 * Go `flag` package semantics, which etcd uses: `-name v`, `--name v`, `-name=v`, `--name=v`;
 * booleans as `--flag` or `--flag=false` (never `--flag false`); `--` ends flags; the first
 * non-flag argument stops parsing. node's util.parseArgs cannot express the single-dash long
 * form nor `--bool=false`, and existing etcd scripts use both, hence this small parser.
 */
import { ConfigError } from './types';

export type FlagKind = 'string' | 'bool' | 'uint' | 'int' | 'duration' | 'urls' | 'strings';

export interface FlagSpec {
  readonly name: string;
  readonly kind: FlagKind;
  /** Default as etcd would print it ('' for none). */
  readonly defaultValue: string;
  readonly help: string;
  /** Accepted and ignored (etcd's legacy flags), with a notice. */
  readonly ignored?: boolean;
  /** Accepted values for an enum-like string flag. */
  readonly choices?: readonly string[];
}

const f = (name: string, kind: FlagKind, defaultValue: string, help: string, extra: Partial<FlagSpec> = {}): FlagSpec => ({
  name,
  kind,
  defaultValue,
  help,
  ...extra,
});

export const FLAG_SPECS: readonly FlagSpec[] = [
  // member
  f('name', 'string', 'default', 'Human-readable name for this member.'),
  f('data-dir', 'string', '', "Path to the data directory (default '<name>.etcd')."),
  f('wal-dir', 'string', '', 'Path to a dedicated WAL directory.'),
  f('snapshot-count', 'uint', '100000', 'Committed transactions that trigger a snapshot to disk.'),
  f('heartbeat-interval', 'uint', '100', 'Time (in milliseconds) of a heartbeat interval.'),
  f('election-timeout', 'uint', '1000', 'Time (in milliseconds) for an election to time out.'),
  f('initial-election-tick-advance', 'bool', 'true', 'Fast-forward initial election ticks on boot.'),
  f('listen-peer-urls', 'urls', 'http://localhost:2380', 'URLs to listen on for peer traffic.'),
  f('listen-client-urls', 'urls', 'http://localhost:2379', 'URLs to listen on for client traffic.'),
  f('listen-metrics-urls', 'urls', '', 'URLs to listen on for the metrics and health endpoints.'),
  f('max-snapshots', 'uint', '5', 'Snapshot files to retain (0 is unlimited).'),
  f('max-wals', 'uint', '5', 'WAL files to retain (0 is unlimited).'),
  f('quota-backend-bytes', 'int', '0', 'Raise alarms when the backend exceeds this size (0: default 2 GiB).'),
  f('backend-batch-interval', 'duration', '0s', 'Longest time before a backend commit (0: 100ms); paces the etcd-equivalent backend size.'),
  f('backend-batch-limit', 'int', '0', 'Most operations before a backend commit (0: 10000); paces the etcd-equivalent backend size.'),
  f('max-txn-ops', 'uint', '128', 'Maximum operations in one transaction.'),
  f('max-request-bytes', 'uint', '1572864', 'Maximum client request size in bytes.'),
  f('grpc-keepalive-min-time', 'duration', '5s', 'Shortest interval a client may ping at.'),
  f('grpc-keepalive-interval', 'duration', '2h0m0s', 'Server-to-client ping interval (0 disables).'),
  f('grpc-keepalive-timeout', 'duration', '20s', 'Wait for a ping ack before closing (0 disables).'),
  f('max-concurrent-streams', 'uint', '4294967295', 'Maximum concurrent streams per client connection.'),
  // clustering
  f('initial-advertise-peer-urls', 'urls', 'http://localhost:2380', "This member's peer URLs to advertise."),
  f('initial-cluster', 'string', 'default=http://localhost:2380', 'Initial cluster configuration for bootstrapping.'),
  f('initial-cluster-state', 'string', 'new', "Initial cluster state ('new' or 'existing').", { choices: ['new', 'existing'] }),
  f('initial-cluster-token', 'string', 'etcd-cluster', 'Initial cluster token for bootstrapping.'),
  f('advertise-client-urls', 'urls', 'http://localhost:2379', "This member's client URLs to advertise."),
  f('discovery', 'string', '', 'Discovery URL (not supported by Keel).'),
  f('discovery-fallback', 'string', 'proxy', 'Discovery fallback (not supported by Keel).'),
  f('discovery-proxy', 'string', '', 'Discovery proxy (not supported by Keel).'),
  f('discovery-srv', 'string', '', 'DNS discovery domain (not supported by Keel).'),
  f('discovery-srv-name', 'string', '', 'DNS discovery service name (not supported by Keel).'),
  f('strict-reconfig-check', 'bool', 'true', 'Reject reconfigurations that would cause quorum loss.'),
  f('enable-v2', 'bool', 'false', 'Accept etcd v2 requests (not supported by Keel).'),
  f('pre-vote', 'bool', 'false', 'Run a pre-vote phase before elections.'),
  f('auto-compaction-retention', 'string', '0', 'Auto compaction retention (0 disables).'),
  f('auto-compaction-mode', 'string', 'periodic', "How to read the retention: 'periodic' or 'revision'.", { choices: ['periodic', 'revision'] }),
  f('force-new-cluster', 'bool', 'false', 'Force a new one-member cluster.'),
  // proxy (etcd v2 proxy; Keel refuses anything but off)
  f('proxy', 'string', 'off', "Proxy mode: only 'off' is supported by Keel.", { choices: ['off', 'readonly', 'on'] }),
  f('proxy-failure-wait', 'uint', '5000', 'Proxy setting (unused).'),
  f('proxy-refresh-interval', 'uint', '30000', 'Proxy setting (unused).'),
  f('proxy-dial-timeout', 'uint', '1000', 'Proxy setting (unused).'),
  f('proxy-write-timeout', 'uint', '5000', 'Proxy setting (unused).'),
  f('proxy-read-timeout', 'uint', '0', 'Proxy setting (unused).'),
  // security
  f('cert-file', 'string', '', 'Client server TLS cert file.'),
  f('key-file', 'string', '', 'Client server TLS key file.'),
  f('client-cert-auth', 'bool', 'false', 'Enable client cert authentication.'),
  f('client-crl-file', 'string', '', 'Client certificate revocation list file.'),
  f('client-cert-allowed-hostname', 'string', '', 'Allowed TLS hostname for client cert authentication.'),
  f('trusted-ca-file', 'string', '', 'Client server TLS trusted CA cert file.'),
  f('auto-tls', 'bool', 'false', 'Client TLS using generated certificates.'),
  f('peer-cert-file', 'string', '', 'Peer server TLS cert file.'),
  f('peer-key-file', 'string', '', 'Peer server TLS key file.'),
  f('peer-client-cert-auth', 'bool', 'false', 'Enable peer client cert authentication.'),
  f('peer-trusted-ca-file', 'string', '', 'Peer server TLS trusted CA file.'),
  f('peer-auto-tls', 'bool', 'false', 'Peer TLS using generated certificates.'),
  f('peer-crl-file', 'string', '', 'Peer certificate revocation list file.'),
  f('peer-cert-allowed-cn', 'string', '', 'Allowed CN for peer authentication.'),
  f('peer-cert-allowed-hostname', 'string', '', 'Allowed TLS hostname for peer authentication.'),
  f('cipher-suites', 'strings', '', 'TLS cipher suites.'),
  f('experimental-peer-skip-client-san-verification', 'bool', 'false', 'Skip SAN verification for peer clients.'),
  f('cors', 'strings', '*', 'CORS origins (accepted, unused).'),
  f('host-whitelist', 'strings', '*', 'Acceptable hostnames (accepted, unused).'),
  // logging
  f('logger', 'string', 'capnslog', "'zap' or 'capnslog' (Keel always logs JSON with pino).", { choices: ['zap', 'capnslog'] }),
  f('log-output', 'strings', 'default', 'Deprecated: use --log-outputs.'),
  f('log-outputs', 'strings', 'default', "Log outputs: 'default', 'stderr', 'stdout', or file paths."),
  f('debug', 'bool', 'false', 'Deprecated: use --log-level=debug.'),
  f('log-level', 'string', 'info', 'Log level: debug, info, warn, error, panic, or fatal.', {
    choices: ['debug', 'info', 'warn', 'error', 'dpanic', 'panic', 'fatal'],
  }),
  f('log-package-levels', 'string', '', 'Deprecated and ignored.'),
  // unsafe / profiling / auth
  f('version', 'bool', 'false', 'Print the version and exit.'),
  f('config-file', 'string', '', 'YAML server configuration file; flags and ETCD_* variables are then ignored.'),
  f('enable-pprof', 'bool', 'false', 'Profiling endpoints (accepted and ignored by Keel).'),
  f('metrics', 'string', 'basic', "Metrics detail: 'basic' or 'extensive'.", { choices: ['basic', 'extensive'] }),
  f('auth-token', 'string', 'simple', "Auth token: 'simple' or 'jwt,...'."),
  f('bcrypt-cost', 'uint', '10', 'bcrypt cost for password hashing.'),
  f('auth-token-ttl', 'uint', '300', 'Lifetime in seconds of a simple auth token.'),
  f('enable-grpc-gateway', 'bool', 'true', 'Serve the JSON gateway (/v3/...).'),
  f('unsafe-no-fsync', 'bool', 'false', 'Disable fsync: unsafe, loses data on power failure.'),
  // experimental
  f('experimental-initial-corrupt-check', 'bool', 'false', 'Check data corruption before serving.'),
  f('experimental-corrupt-check-time', 'duration', '0s', 'Interval between cluster corruption checks.'),
  f('experimental-enable-v2v3', 'string', '', 'v2 emulation prefix (not supported by Keel).'),
  f('experimental-backend-bbolt-freelist-type', 'string', 'array', 'bbolt freelist type (accepted, unused).'),
  f('experimental-enable-lease-checkpoint', 'bool', 'false', 'Leader checkpoints lease remaining TTLs.'),
  f('experimental-enable-lease-checkpoint-persist', 'bool', 'false', 'Persist lease checkpoints.'),
  f('experimental-compaction-batch-limit', 'int', '1000', 'Revisions deleted per compaction batch.'),
  f('experimental-watch-progress-notify-interval', 'duration', '10m0s', 'Interval of watch progress notifications.'),
  f('experimental-warning-apply-duration', 'duration', '100ms', 'Applies slower than this are logged.'),
  // Keel
  f('nats-url', 'string', '', 'Keel: publish admin events to this NATS server.'),
  // legacy flags etcd 3.4 still accepts and ignores
  ...['cluster-active-size', 'cluster-remove-delay', 'cluster-sync-interval', 'config', 'force', 'max-result-buffer', 'max-retry-attempts', 'peer-heartbeat-interval', 'peer-election-timeout', 'retry-interval', 'snapshot', 'v', 'vv'].map(
    (name) => f(name, 'string', '', 'Ignored legacy flag.', { ignored: true }),
  ),
];

const SPEC_BY_NAME = new Map(FLAG_SPECS.map((spec) => [spec.name, spec]));

export function flagSpec(name: string): FlagSpec | undefined {
  return SPEC_BY_NAME.get(name);
}

/** etcd's env var for a flag: ETCD_ + upper case, '-' → '_'. */
export function envNameFor(flag: string): string {
  return 'ETCD_' + flag.toUpperCase().replace(/-/g, '_');
}

/** Thrown for a usage error (unknown flag, missing value): etcd exits 2 for these. */
export class UsageError extends ConfigError {
  override readonly exitCode: number = 2;
}

export interface Tokenized {
  /** Flag name → raw value, last occurrence wins (as Go's flag does for these types). */
  readonly values: Map<string, string>;
  readonly help: boolean;
}

/** Splits argv into flag values with Go flag semantics. Throws UsageError. */
export function tokenize(argv: readonly string[]): Tokenized {
  const values = new Map<string, string>();
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      if (i + 1 < argv.length) throw new ConfigError(`'${argv[i + 1]}' is not a valid flag`);
      break;
    }
    if (arg.length < 2 || arg[0] !== '-') throw new ConfigError(`'${arg}' is not a valid flag`);
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    if (body.length === 0 || body[0] === '-' || body[0] === '=') throw new UsageError(`bad flag syntax: ${arg}`);
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = SPEC_BY_NAME.get(name);
    if (spec === undefined) {
      if (name === 'h' || name === 'help') {
        help = true;
        continue;
      }
      throw new UsageError(`flag provided but not defined: -${name}`);
    }
    if (eq >= 0) {
      values.set(name, body.slice(eq + 1));
    } else if (spec.kind === 'bool') {
      values.set(name, 'true');
    } else {
      if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: -${name}`);
      values.set(name, argv[++i]!);
    }
  }
  return { values, help };
}

/** Usage text listing every flag with its default, in the spirit of `etcd --help`. */
export function helpText(): string {
  const lines = ['Usage:', '', '  keel member [flags]', '    Start a Keel member (etcd 3.4 compatible flags).', '', 'Flags:'];
  for (const spec of FLAG_SPECS) {
    if (spec.ignored) continue;
    const def = spec.defaultValue === '' ? '' : ` (default ${JSON.stringify(spec.defaultValue)})`;
    lines.push(`  --${spec.name}${spec.kind === 'bool' ? '' : ' <' + spec.kind + '>'}`, `      ${spec.help}${def}`);
  }
  lines.push('', 'Every flag can also be set by an ETCD_<FLAG_NAME> environment variable (e.g. ETCD_DATA_DIR).');
  return lines.join('\n') + '\n';
}
