/**
 * Request bodies of the JSON gateway: one JSON object for unary and server-streaming calls,
 * a sequence of JSON objects (usually one per line) for client-streaming ones (watch,
 * keepalive). No I/O here; the gateway feeds bytes in.
 */
import { GrpcError, GrpcStatus } from '../rpc/status';

export class BodyTooLargeError extends Error {}

/**
 * Cuts a byte stream into top-level JSON values without parsing them: tracks string and
 * escape state and bracket depth. Whitespace between values is skipped. A value still
 * incomplete after `valueBytesMax` bytes is refused (the buffer is bounded).
 */
export class JsonValueSplitter {
  private pending = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private scanned = 0;
  private readonly decoder = new TextDecoder('utf-8');

  constructor(private readonly valueBytesMax: number) {}

  /** Adds bytes; returns the values they completed, as text. */
  push(chunk: Buffer): string[] {
    this.pending += this.decoder.decode(chunk, { stream: true });
    const values: string[] = [];
    let start = 0;
    for (let i = this.scanned; i < this.pending.length; i++) {
      const ch = this.pending[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (ch === '\\') this.escaped = true;
        else if (ch === '"') this.inString = false;
        continue;
      }
      if (ch === '"') this.inString = true;
      else if (ch === '{' || ch === '[') this.depth++;
      else if (ch === '}' || ch === ']') {
        this.depth--;
        if (this.depth === 0) {
          values.push(this.pending.slice(start, i + 1).trim());
          start = i + 1;
        }
      }
    }
    this.pending = this.pending.slice(start);
    if (this.depth === 0 && !this.inString) this.pending = this.pending.trimStart();
    this.scanned = this.pending.length;
    if (Buffer.byteLength(this.pending) > this.valueBytesMax) throw new BodyTooLargeError('request message too large');
    return values;
  }

  /** The unterminated remainder at end of input ('' when the input ended cleanly). */
  rest(): string {
    return (this.pending + this.decoder.decode()).trim();
  }
}

/**
 * Go's JSON decoding of protobuf (jsonpb) accepts lowerCamelCase field names as well as the
 * proto names; the generated `fromJSON` reads only the proto names. So each camelCase key
 * also gets its snake_case spelling (kept as is when the proto name itself has capitals,
 * like `ID`, `TTL` or `peerURLs`: the original key stays too).
 */
export function withProtoNames(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withProtoNames);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    const converted = withProtoNames(inner);
    out[key] = converted;
    if (!/[a-z0-9][A-Z]/.test(key)) continue;
    const snake = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
    if (!(snake in value)) out[snake] = converted;
  }
  return out;
}

/** An empty body is an empty message, as in etcd's gateway. */
export function parseMessage<T>(text: string, decode: (object: unknown) => T): T {
  let object: unknown;
  try {
    object = text.trim() === '' ? {} : JSON.parse(text);
  } catch (error) {
    throw new GrpcError(GrpcStatus.INVALID_ARGUMENT, (error as Error).message);
  }
  if (object === null || typeof object !== 'object' || Array.isArray(object)) {
    throw new GrpcError(GrpcStatus.INVALID_ARGUMENT, 'request body must be a JSON object');
  }
  try {
    return decode(withProtoNames(object));
  } catch (error) {
    throw new GrpcError(GrpcStatus.INVALID_ARGUMENT, (error as Error).message);
  }
}
