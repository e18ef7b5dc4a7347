/**
 * etcd's --config-file: a YAML file whose keys are the flag names, except TLS, which sits in
 * `client-transport-security` / `peer-transport-security` maps. As in etcd, when a file is
 * given, command-line flags and ETCD_* variables are ignored. Durations in the file are Go
 * `time.Duration` values as etcd reads them: integers of nanoseconds (a "5s" style string is
 * also accepted here).
 */
import { flagSpec } from './flags';
import { ConfigError } from './types';
import { parseYamlSubset, type YamlValue } from './yaml';

/** Keys of the transport-security maps → the flags they stand for. */
const SECURITY_KEYS: Record<'client-transport-security' | 'peer-transport-security', Record<string, string>> = {
  'client-transport-security': {
    'cert-file': 'cert-file',
    'key-file': 'key-file',
    'client-cert-auth': 'client-cert-auth',
    'trusted-ca-file': 'trusted-ca-file',
    'auto-tls': 'auto-tls',
    'crl-file': 'client-crl-file',
    'allowed-hostname': 'client-cert-allowed-hostname',
  },
  'peer-transport-security': {
    'cert-file': 'peer-cert-file',
    'key-file': 'peer-key-file',
    'client-cert-auth': 'peer-client-cert-auth',
    'trusted-ca-file': 'peer-trusted-ca-file',
    'auto-tls': 'peer-auto-tls',
    'crl-file': 'peer-crl-file',
    'allowed-cn': 'peer-cert-allowed-cn',
    'allowed-hostname': 'peer-cert-allowed-hostname',
  },
};

/** Keys etcd's file format does not have (they are flag-only) or that make no sense in a file. */
const NOT_IN_FILES = new Set(['config-file', 'version']);

export interface ConfigFileValues {
  /** Flag name → raw value in flag syntax. */
  readonly values: Map<string, string>;
  /** Keys that were ignored, for the startup log. */
  readonly ignoredKeys: string[];
}

export function configFileValues(text: string): ConfigFileValues {
  const document = parseYamlSubset(text);
  const values = new Map<string, string>();
  const ignoredKeys: string[] = [];
  for (const [key, value] of Object.entries(document)) {
    if (value === null) continue;
    if (key === 'client-transport-security' || key === 'peer-transport-security') {
      readSecurity(key, value, values, ignoredKeys);
      continue;
    }
    const spec = flagSpec(key);
    if (spec === undefined || spec.ignored || NOT_IN_FILES.has(key)) {
      ignoredKeys.push(key);
      continue;
    }
    values.set(key, rawFor(key, value));
  }
  return { values, ignoredKeys };
}

function readSecurity(
  section: keyof typeof SECURITY_KEYS,
  value: YamlValue,
  values: Map<string, string>,
  ignoredKeys: string[],
): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`config file: ${section} must be a map`);
  }
  for (const [key, inner] of Object.entries(value)) {
    const flag = SECURITY_KEYS[section][key];
    if (flag === undefined) ignoredKeys.push(`${section}.${key}`);
    else if (inner !== null) values.set(flag, rawFor(flag, inner));
  }
}

/** Turns a YAML value into the text the flag parser expects. */
function rawFor(flag: string, value: YamlValue): string {
  const kind = flagSpec(flag)?.kind;
  if (Array.isArray(value)) {
    if (value.some((item) => typeof item === 'object' && item !== null)) throw new ConfigError(`config file: ${flag} must be a list of plain values`);
    return value.map(String).join(',');
  }
  if (typeof value === 'object' && value !== null) throw new ConfigError(`config file: ${flag} must not be a map`);
  if (kind === 'duration' && typeof value === 'number') {
    // Go decodes a time.Duration from a plain number as nanoseconds.
    return `${value}ns`;
  }
  return String(value);
}
