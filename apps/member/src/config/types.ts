/**
 * A member's validated configuration, from etcd 3.4's flags and `ETCD_*` environment
 * variables. Every field is filled (defaults applied); URLs are parsed and normalised.
 */

export type ClusterState = 'new' | 'existing';
export type AutoCompactionMode = 'periodic' | 'revision';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'panic' | 'fatal';

/** One side's TLS files (client or peer); rpc/tls turns them into node TLS options. */
export interface TlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  readonly trustedCaFile: string;
  readonly clientCertAuth: boolean;
  readonly crlFile: string;
  readonly autoTls: boolean;
  readonly allowedCn: string;
  readonly allowedHostname: string;
}

export interface InitialClusterMember {
  readonly name: string;
  /** Sorted, as etcd keeps a member's peer URLs sorted. */
  readonly peerUrls: readonly string[];
}

export interface MemberConfig {
  readonly name: string;
  readonly dataDir: string;
  /** Empty string: the WAL lives in `<dataDir>/member/wal`. */
  readonly walDir: string;

  readonly listenClientUrls: readonly string[];
  readonly advertiseClientUrls: readonly string[];
  readonly listenPeerUrls: readonly string[];
  readonly initialAdvertisePeerUrls: readonly string[];
  readonly listenMetricsUrls: readonly string[];

  /** Raw `--initial-cluster` text ("a=http://h1:2380,b=http://h2:2380"). */
  readonly initialCluster: string;
  /** `initialCluster` parsed; members in order of first appearance. Contains `name`. */
  readonly initialClusterMembers: readonly InitialClusterMember[];
  readonly initialClusterState: ClusterState;
  readonly initialClusterToken: string;
  readonly forceNewCluster: boolean;

  readonly snapshotCount: number;
  readonly maxSnapshots: number;
  readonly maxWals: number;
  readonly heartbeatIntervalMs: number;
  readonly electionTimeoutMs: number;
  /** electionTimeoutMs / heartbeatIntervalMs, rounded down: raft's election tick count. */
  readonly electionTicks: number;
  readonly initialElectionTickAdvance: boolean;
  readonly preVote: boolean;
  readonly strictReconfigCheck: boolean;

  /** Effective quota: --quota-backend-bytes, 0 → etcd's default 2 GiB, negative → -1 (quota disabled). */
  readonly quotaBackendBytes: number;
  readonly maxRequestBytes: number;
  readonly maxTxnOps: number;
  /** --backend-batch-interval in ms; 0 → etcd's default (100 ms). Drives the backend size model's commits. */
  readonly backendBatchIntervalMs: number;
  /** --backend-batch-limit; 0 → etcd's default (10,000 writes). */
  readonly backendBatchLimit: number;
  readonly maxConcurrentStreams: number;
  readonly autoCompactionMode: AutoCompactionMode;
  /** Raw retention text: hours ("1", "0.5") or a duration ("30m") for periodic, a count for revision. "0" = off. */
  readonly autoCompactionRetention: string;
  /** Parsed retention: milliseconds (periodic) or revisions (revision); 0 = auto compaction off. */
  readonly autoCompactionRetentionValue: number;

  readonly grpcKeepAliveMinTimeMs: number;
  readonly grpcKeepAliveIntervalMs: number;
  readonly grpcKeepAliveTimeoutMs: number;

  readonly authToken: string;
  readonly bcryptCost: number;
  readonly authTokenTtlSeconds: number;
  readonly enableGrpcGateway: boolean;
  readonly enablePprof: boolean;
  /** "basic" or "extensive". */
  readonly metrics: string;

  readonly logger: string;
  readonly logLevel: LogLevel;
  /** "default", "stderr", "stdout", or file paths. "default" means stderr. */
  readonly logOutputs: readonly string[];

  readonly clientTls: TlsConfig;
  readonly peerTls: TlsConfig;
  readonly cipherSuites: readonly string[];

  readonly experimentalInitialCorruptCheck: boolean;
  readonly experimentalCorruptCheckTimeMs: number;
  readonly experimentalEnableLeaseCheckpoint: boolean;
  readonly experimentalCompactionBatchLimit: number;
  readonly experimentalWatchProgressNotifyIntervalMs: number;
  readonly experimentalWarningApplyDurationMs: number;
  readonly unsafeNoFsync: boolean;

  /** Keel: publish admin events to this NATS server; empty = no NATS. */
  readonly natsUrl: string;

  /** Human-readable notes for the log at startup (env vars used, ignored flags, defaults applied). */
  readonly notices: readonly string[];
}

/** What the command line asked for besides running: print help or version and exit 0. */
export type ParseOutcome =
  | { readonly kind: 'run'; readonly config: MemberConfig }
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'version'; readonly text: string };

/** A bad flag, value or combination. `message` is what etcd would say, made for a human. */
export class ConfigError extends Error {
  /** Process exit status etcd uses for this kind of error (1; usage errors 2). */
  readonly exitCode: number = 1;

  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
