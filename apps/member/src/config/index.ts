export { parseCommandLine, parseMemberConfig, parseInitialCluster, checkBootstrapUrls, versionText, KEEL_VERSION } from './parse';
export { FLAG_SPECS, envNameFor, helpText, UsageError, type FlagSpec } from './flags';
export {
  ConfigError,
  type MemberConfig,
  type ParseOutcome,
  type ClusterState,
  type AutoCompactionMode,
  type LogLevel,
  type TlsConfig,
  type InitialClusterMember,
} from './types';
