/**
 * Conversions of raw flag text to typed values, with etcd's rules. Each throws a plain Error
 * whose message the caller wraps as `invalid value "<v>" for <flag>: <message>`.
 */

/** Go's strconv.ParseUint(s, 0, bits) subset: decimal (and 0x hex) non-negative integers. */
export function parseUint(text: string, max = Number.MAX_SAFE_INTEGER): number {
  const value = parseIntegerText(text);
  if (value < 0) throw new Error('parse error');
  if (value > max) throw new Error('value out of range');
  return value;
}

export function parseInt64(text: string): number {
  return parseIntegerText(text);
}

function parseIntegerText(text: string): number {
  if (!/^[+-]?(0x[0-9a-fA-F]+|\d+)$/.test(text)) throw new Error('parse error');
  const negative = text.startsWith('-');
  const digits = text.replace(/^[+-]/, '');
  const value = Number(BigInt(digits));
  if (!Number.isSafeInteger(value)) throw new Error('value out of range');
  return negative ? -value : value;
}

export function parseBool(text: string): boolean {
  // strconv.ParseBool's accepted spellings.
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  throw new Error('parse error');
}

const DURATION_UNITS_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's time.ParseDuration ("1h30m", "250ms", "0") → milliseconds. */
export function parseDurationMs(text: string): number {
  if (text === '0' || text === '+0' || text === '-0') return 0;
  const match = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(text);
  if (match === null) throw new Error(`time: invalid duration "${text}"`);
  let total = 0;
  for (const part of text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(part[1]) * DURATION_UNITS_MS[part[2]!]!;
  }
  return match[1] === '-' ? -total : total;
}

/**
 * A comma-separated URL list as etcd's flags take it: each http/https/unix/unixs, with
 * host:port and no path. Returned normalised and sorted, duplicates removed.
 */
export function parseUrlList(text: string): string[] {
  const parts = text.split(',').map((part) => part.trim());
  if (parts.length === 0 || (parts.length === 1 && parts[0] === '')) throw new Error('no valid URLs given');
  const urls = new Set<string>();
  for (const part of parts) urls.add(parseOneUrl(part));
  return [...urls].sort();
}

function parseOneUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`parse ${JSON.stringify(text)}: invalid URL`);
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (!['http', 'https', 'unix', 'unixs'].includes(scheme)) {
    throw new Error(`URL scheme must be http, https, unix, or unixs: ${text}`);
  }
  // WHATWG URL drops a default port (http:80) and fills host: re-check the original text.
  const authority = /^[a-z]+:\/\/([^/?#]*)/i.exec(text)?.[1] ?? '';
  if (!/^(\[[^\]]+\]|[^:[\]]*):\d+$/.test(authority)) {
    throw new Error(`URL address does not have the form "host:port": ${text}`);
  }
  if (url.pathname !== '/' && url.pathname !== '') throw new Error(`URL must not contain a path: ${text}`);
  if (/^[a-z]+:\/\/[^/]*\//i.test(text)) throw new Error(`URL must not contain a path: ${text}`);
  return `${scheme}://${authority}`;
}

/** The host part of a normalised URL (brackets removed from IPv6). */
export function urlHost(url: string): string {
  const authority = /^[a-z]+:\/\/([^/?#]*)/i.exec(url)?.[1] ?? '';
  const host = authority.replace(/:\d+$/, '');
  return host.replace(/^\[(.*)\]$/, '$1');
}
