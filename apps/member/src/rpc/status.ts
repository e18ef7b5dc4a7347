/**
 * gRPC status codes (numeric, as on the wire in `grpc-status`) and the error type handlers
 * throw to end a call with a status other than OK.
 */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

/**
 * Thrown by a handler (or passed to `call.fail`) to end a call with `code` and `message`.
 * The message reaches the client verbatim (percent-encoded on the wire), so for etcd errors
 * it must be etcd's exact text, e.g. `new GrpcError(GrpcStatus.OUT_OF_RANGE,
 * 'etcdserver: mvcc: required revision has been compacted')`.
 */
export class GrpcError extends Error {
  constructor(
    readonly code: GrpcStatusCode,
    message: string,
  ) {
    super(message);
    this.name = 'GrpcError';
  }
}

/** Any thrown value as a GrpcError: GrpcErrors pass through, anything else is UNKNOWN (as grpc-go does). */
export function toGrpcError(err: unknown): GrpcError {
  if (err instanceof GrpcError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new GrpcError(GrpcStatus.UNKNOWN, message);
}

/**
 * Percent-encodes a status message for the `grpc-message` trailer: bytes outside printable
 * ASCII (0x20–0x7E) and '%' itself are written as %XX of their UTF-8 bytes (gRPC HTTP/2 spec).
 */
export function encodeGrpcMessage(message: string): string {
  const bytes = Buffer.from(message, 'utf8');
  let out = '';
  for (const b of bytes) {
    if (b >= 0x20 && b <= 0x7e && b !== 0x25) out += String.fromCharCode(b);
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Inverse of encodeGrpcMessage; malformed escapes are kept literally, as the spec asks. */
export function decodeGrpcMessage(encoded: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    const ch = encoded.charCodeAt(i);
    if (ch === 0x25 && i + 2 < encoded.length + 0 && /^[0-9a-fA-F]{2}$/.test(encoded.slice(i + 1, i + 3))) {
      bytes.push(parseInt(encoded.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(ch & 0xff);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
