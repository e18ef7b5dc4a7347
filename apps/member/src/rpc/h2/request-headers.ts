/**
 * Turns a decoded request header list into the call's metadata object, checking what
 * RFC 9113 §8.3 requires of a request. The `:authority` is accepted whatever its form: etcdctl
 * sends "http://host:port" for some commands and etcd's Go server accepts it.
 */
import type { HeaderList } from '@keel/h2';
import type { Metadata } from '../types';

/** Connection-specific fields, forbidden in HTTP/2 (RFC 9113 §8.2.2). */
const FORBIDDEN = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);
const UPPER_CASE = /[A-Z]/;
const REQUEST_PSEUDO = new Set([':method', ':scheme', ':path', ':authority']);

/** The metadata, or a reason the request is malformed (answered with RST_STREAM PROTOCOL_ERROR). */
export function requestMetadata(headers: HeaderList): Metadata | string {
  // A plain object (fast properties) rather than a null-prototype one (dictionary mode); the
  // `typeof` checks below keep inherited names such as "constructor" from reading as values.
  const metadata: Record<string, string | undefined> = {};
  let regularSeen = false;
  for (const [name, value] of headers) {
    if (name.startsWith(':')) {
      if (regularSeen) return `pseudo-header ${name} after a regular field`;
      if (!REQUEST_PSEUDO.has(name)) return `unknown pseudo-header ${name}`;
      if (typeof metadata[name] === 'string') return `duplicate pseudo-header ${name}`;
      metadata[name] = value;
      continue;
    }
    regularSeen = true;
    if (UPPER_CASE.test(name)) return `upper-case field name ${name}`;
    if (FORBIDDEN.has(name)) return `connection-specific field ${name}`;
    if (name === 'te' && value !== 'trailers') return `te: ${value}`;
    const previous = metadata[name];
    metadata[name] = typeof previous === 'string' ? `${previous}, ${value}` : value;
  }
  if (typeof metadata[':method'] !== 'string' || typeof metadata[':path'] !== 'string') return 'missing :method or :path';
  return metadata as Metadata;
}
