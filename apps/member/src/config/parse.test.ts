import { checkBootstrapUrls, parseCommandLine, parseMemberConfig } from './parse';
import { ConfigError, type MemberConfig } from './types';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}): MemberConfig => parseMemberConfig(argv, env);
const errorOf = (argv: string[], env: NodeJS.ProcessEnv = {}): ConfigError => {
  try {
    parseMemberConfig(argv, env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe('parseMemberConfig defaults (etcd 3.4)', () => {
  test('no flags gives the default single-member configuration', () => {
    const c = parse([]);
    expect(c).toMatchObject({
      name: 'default',
      dataDir: 'default.etcd',
      walDir: '',
      listenClientUrls: ['http://localhost:2379'],
      advertiseClientUrls: ['http://localhost:2379'],
      listenPeerUrls: ['http://localhost:2380'],
      initialAdvertisePeerUrls: ['http://localhost:2380'],
      listenMetricsUrls: [],
      initialCluster: 'default=http://localhost:2380',
      initialClusterState: 'new',
      initialClusterToken: 'etcd-cluster',
      snapshotCount: 100000,
      heartbeatIntervalMs: 100,
      electionTimeoutMs: 1000,
      electionTicks: 10,
      maxRequestBytes: 1572864,
      maxTxnOps: 128,
      quotaBackendBytes: 2 * 1024 ** 3,
      autoCompactionMode: 'periodic',
      autoCompactionRetention: '0',
      autoCompactionRetentionValue: 0,
      logLevel: 'info',
      logOutputs: ['default'],
      enableGrpcGateway: true,
      natsUrl: '',
    });
    expect(c.initialClusterMembers).toEqual([{ name: 'default', peerUrls: ['http://localhost:2380'] }]);
  });

  test('--name alone derives the data dir and the one-member initial cluster', () => {
    const c = parse(['--name', 'infra0', '--initial-advertise-peer-urls', 'http://10.0.0.1:2380']);
    expect(c.dataDir).toBe('infra0.etcd');
    expect(c.initialCluster).toBe('infra0=http://10.0.0.1:2380');
    expect(c.notices).toContain("'data-dir' was empty; using default infra0.etcd");
  });
});

describe('flag syntax like Go flag', () => {
  test('single and double dashes, = and separate values, bools with and without values', () => {
    const c = parse(['-name=a', '--data-dir', '/tmp/x', '--initial-cluster=a=http://127.0.0.1:2380', '--pre-vote', '-strict-reconfig-check=false']);
    expect(c).toMatchObject({ name: 'a', dataDir: '/tmp/x', preVote: true, strictReconfigCheck: false });
  });

  test('unknown flag, missing value and stray argument are errors with etcd text', () => {
    expect(errorOf(['--bogus']).message).toBe('flag provided but not defined: -bogus');
    expect(errorOf(['--bogus']).exitCode).toBe(2);
    expect(errorOf(['--name']).message).toBe('flag needs an argument: -name');
    expect(errorOf(['extra']).message).toBe("'extra' is not a valid flag");
    expect(errorOf(['extra']).exitCode).toBe(1);
  });

  test('-h and --version are outcomes, not runs', () => {
    expect(parseCommandLine(['-h'], {}).kind).toBe('help');
    const version = parseCommandLine(['--version'], {});
    expect(version.kind).toBe('version');
    expect(version.kind === 'version' && version.text).toMatch(/^etcd Version: 3\.4\.\d+\n/);
  });

  test('legacy flags etcd ignores are accepted with a notice', () => {
    expect(parse(['--peer-heartbeat-interval', '5']).notices).toContain('flag --peer-heartbeat-interval is ignored');
  });
});

describe('ETCD_* environment variables', () => {
  test('fill flags that were not given, with a notice', () => {
    const c = parse([], { ETCD_NAME: 'envname', ETCD_SNAPSHOT_COUNT: '5000', ETCD_INITIAL_CLUSTER: 'envname=http://127.0.0.1:2380', PATH: '/bin' });
    expect(c).toMatchObject({ name: 'envname', snapshotCount: 5000 });
    expect(c.notices).toContain('recognized and used environment variable ETCD_SNAPSHOT_COUNT=5000');
  });

  test('a flag given both ways is refused as etcd does', () => {
    expect(errorOf(['--name', 'b'], { ETCD_NAME: 'a' }).message).toBe(
      'conflicting environment variable "ETCD_NAME" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)',
    );
  });

  test('a bad env value names the variable; unknown ETCD_ variables are only noted', () => {
    expect(errorOf([], { ETCD_SNAPSHOT_COUNT: 'x' }).message).toBe('invalid value "x" for ETCD_SNAPSHOT_COUNT: parse error');
    expect(parse([], { ETCD_UNHEARD_OF: '1' }).notices).toContain('unrecognized environment variable ETCD_UNHEARD_OF=1');
  });
});

describe('validation with etcd messages', () => {
  test('bad values', () => {
    expect(errorOf(['--snapshot-count', 'abc']).message).toBe('invalid value "abc" for flag -snapshot-count: parse error');
    expect(errorOf(['--initial-cluster-state', 'bogus']).message).toMatch(/^invalid value "bogus" for flag -initial-cluster-state/);
    expect(errorOf(['--advertise-client-urls', 'http://localhost:2379/x']).message).toBe(
      'invalid value "http://localhost:2379/x" for flag -advertise-client-urls: URL must not contain a path: http://localhost:2379/x',
    );
    expect(errorOf(['--advertise-client-urls', 'ftp://h:1']).message).toMatch(/URL scheme must be http, https, unix, or unixs/);
    expect(errorOf(['--advertise-client-urls', 'http://hostonly']).message).toMatch(/does not have the form "host:port"/);
  });

  test('listen URLs must bind an IP or localhost', () => {
    expect(errorOf(['--listen-peer-urls', 'http://example.com:2380']).message).toBe('expected IP in URL for binding (http://example.com:2380)');
  });

  test('explicit listen-client-urls need advertise-client-urls', () => {
    expect(errorOf(['--listen-client-urls', 'http://127.0.0.1:1']).message).toBe(
      '--advertise-client-urls is required when --listen-client-urls is set explicitly',
    );
  });

  test('election timeout must be at least 5 heartbeats and at most 50 s', () => {
    expect(errorOf(['--election-timeout', '400']).message).toBe(
      '--election-timeout[400ms] should be at least as 5 times as --heartbeat-interval[100ms]',
    );
    expect(errorOf(['--election-timeout', '60000']).message).toMatch(/is too long/);
    expect(parse(['--heartbeat-interval', '50', '--election-timeout', '250']).electionTicks).toBe(5);
  });

  test('the member name must be in --initial-cluster', () => {
    expect(errorOf(['--name', 'foo', '--initial-cluster', 'bar=http://localhost:2380']).message).toBe(
      `couldn't find local name "foo" in the initial cluster configuration`,
    );
  });

  test('initial cluster with several members and duplicate URLs', () => {
    const c = parse([
      '--name', 'b',
      '--initial-cluster', 'a=http://10.0.0.1:2380,b=http://10.0.0.2:2380,b=http://10.0.0.20:2380,c=http://10.0.0.3:2380',
    ]);
    expect(c.initialClusterMembers.map((m) => m.name)).toEqual(['a', 'b', 'c']);
    // Byte order as Go's sort.Strings: '0' sorts before ':'.
    expect(c.initialClusterMembers[1]!.peerUrls).toEqual(['http://10.0.0.20:2380', 'http://10.0.0.2:2380']);
    expect(errorOf(['--initial-cluster', 'default=http://h:1,x=http://h:1']).message).toMatch(/has duplicate url/);
  });

  test('auto compaction retention as etcd reads it', () => {
    expect(parse(['--auto-compaction-retention', '2']).autoCompactionRetentionValue).toBe(2 * 3600_000);
    expect(parse(['--auto-compaction-retention', '30m']).autoCompactionRetentionValue).toBe(30 * 60_000);
    expect(parse(['--auto-compaction-mode', 'revision', '--auto-compaction-retention', '1000']).autoCompactionRetentionValue).toBe(1000);
    expect(errorOf(['--auto-compaction-retention', '0.5']).message).toMatch(/^error parsing CompactionRetention/);
    expect(errorOf(['--auto-compaction-mode', 'weekly']).message).toMatch(/auto-compaction-mode/);
  });

  test('quota: 0 is the 2 GiB default, negative disables', () => {
    expect(parse(['--quota-backend-bytes', '8589934592']).quotaBackendBytes).toBe(8589934592);
    expect(parse(['--quota-backend-bytes', '-1']).quotaBackendBytes).toBe(-1);
  });

  test('logging flags', () => {
    expect(parse(['--log-level', 'debug', '--log-outputs', 'stdout,/tmp/keel.log']).logOutputs).toEqual(['stdout', '/tmp/keel.log']);
    expect(parse(['--debug']).logLevel).toBe('debug');
    expect(errorOf(['--log-level', 'loud']).message).toMatch(/log-level/);
    expect(errorOf(['--log-outputs', 'stdout,stderr']).message).toMatch(/multi logoutput/);
  });

  test('TLS: https URLs need their certificate and key; unsupported TLS options are refused clearly', () => {
    const c = parse([
      '--listen-client-urls', 'https://127.0.0.1:2379', '--advertise-client-urls', 'https://127.0.0.1:2379',
      '--cert-file', 'c.pem', '--key-file', 'k.pem', '--trusted-ca-file', 'ca.pem', '--client-cert-auth',
    ]);
    expect(c.clientTls).toMatchObject({ certFile: 'c.pem', keyFile: 'k.pem', trustedCaFile: 'ca.pem', clientCertAuth: true });
    expect(
      errorOf(['--listen-client-urls', 'https://127.0.0.1:2379', '--advertise-client-urls', 'https://127.0.0.1:2379']).message,
    ).toBe('TLS key/cert (--cert-file, --key-file) must be provided for client url https://127.0.0.1:2379 with HTTPS scheme');
    expect(errorOf(['--listen-peer-urls', 'https://127.0.0.1:2380']).message).toMatch(/--peer-cert-file, --peer-key-file/);
    expect(errorOf(['--auto-tls']).message).toBe(
      'not implemented in Keel yet: --auto-tls (certificate files, CAs, CRLs, client-cert auth and allowed CN/hostname are supported)',
    );
    expect(errorOf(['--listen-client-urls', 'unix://x:1', '--advertise-client-urls', 'http://h:1']).message).toMatch(/unix sockets/);
    expect(parse(['--cert-file', 'c.pem', '--key-file', 'k.pem']).notices.some((n) => n.includes('scheme is HTTP'))).toBe(true);
  });

  test('--enable-pprof is accepted with a notice; --nats-url is checked', () => {
    expect(parse(['--enable-pprof']).notices.some((n) => n.includes('--enable-pprof'))).toBe(true);
    expect(parse(['--nats-url', 'nats://127.0.0.1:4222']).natsUrl).toBe('nats://127.0.0.1:4222');
    expect(errorOf(['--nats-url', 'http://x:1']).message).toMatch(/nats-url/);
  });

  test('experimental flags are parsed', () => {
    const c = parse(['--experimental-initial-corrupt-check', '--experimental-corrupt-check-time', '1m30s', '--experimental-watch-progress-notify-interval=5s']);
    expect(c.experimentalInitialCorruptCheck).toBe(true);
    expect(c.experimentalCorruptCheckTimeMs).toBe(90_000);
    expect(c.experimentalWatchProgressNotifyIntervalMs).toBe(5000);
  });
});

describe('checkBootstrapUrls', () => {
  test('advertised peer URLs must match this member in --initial-cluster', () => {
    const ok = parse(['--name', 'a', '--initial-advertise-peer-urls', 'http://10.0.0.1:2380', '--initial-cluster', 'a=http://10.0.0.1:2380']);
    expect(() => checkBootstrapUrls(ok)).not.toThrow();
    const bad = parse(['--name', 'a', '--initial-advertise-peer-urls', 'http://10.0.0.9:2380', '--initial-cluster', 'a=http://10.0.0.1:2380']);
    expect(() => checkBootstrapUrls(bad)).toThrow(
      '--initial-cluster has a=http://10.0.0.1:2380 but missing from --initial-advertise-peer-urls=http://10.0.0.9:2380',
    );
  });
});
