/**
 * Errors the HTTP/2 connection raises while reading frames. A ConnectionError ends the whole
 * connection (GOAWAY with its code); a StreamError resets one stream (RST_STREAM) and the
 * connection carries on (RFC 9113 §5.4).
 */
export { ErrorCode } from '@keel/h2';

export class ConnectionError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'ConnectionError';
  }
}

export class StreamError extends Error {
  constructor(
    readonly streamId: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'StreamError';
  }
}
