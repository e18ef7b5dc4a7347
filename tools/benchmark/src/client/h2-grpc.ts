import http2 from 'node:http2';

/**
 * A minimal gRPC client on node:http2, used by the benchmark because it costs far less CPU
 * per call than @grpc/grpc-js, and a load generator sharing two cores with the server it
 * measures must not be the bottleneck. It speaks only what the benchmark needs: unary
 * calls and bidirectional streams of length-prefixed, uncompressed messages.
 */
export class GrpcCallError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(details || `grpc status ${code}`);
  }
}

const messageHeaderBytes = 5;

export function frameMessage(body: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(messageHeaderBytes + body.length);
  framed[0] = 0;
  framed.writeUInt32BE(body.length, 1);
  framed.set(body, messageHeaderBytes);
  return framed;
}

/** Splits a byte stream into gRPC messages, across chunk boundaries. */
export class MessageDeframer {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, onMessage: (message: Buffer) => void): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= messageHeaderBytes) {
      const length = this.pending.readUInt32BE(1);
      if (this.pending.length < messageHeaderBytes + length) return;
      onMessage(this.pending.subarray(messageHeaderBytes, messageHeaderBytes + length));
      this.pending = this.pending.subarray(messageHeaderBytes + length);
    }
  }
}

function statusOf(headers: http2.IncomingHttpHeaders): { code: number; details: string } | undefined {
  const status = headers['grpc-status'];
  if (status === undefined) return undefined;
  const message = headers['grpc-message'];
  return { code: Number(status), details: typeof message === 'string' ? decodeURIComponent(message) : '' };
}

export interface BidiStream {
  write(body: Uint8Array): void;
  end(): void;
  /** Abandons the stream (RST_STREAM CANCEL), as a client does to stop a watch. */
  cancel(): void;
  /** Resolves when the server closes the stream (rejects on a non-OK status). */
  readonly closed: Promise<void>;
}

export class H2GrpcConnection {
  private readonly session: http2.ClientHttp2Session;

  constructor(authority: string) {
    this.session = http2.connect(authority, { settings: { initialWindowSize: 1 << 20 } });
    this.session.on('error', () => {
      /* surfaced to callers through their streams */
    });
  }

  /** One request message, one response message. */
  unary(path: string, body: Uint8Array): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const stream = this.session.request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      let response: Buffer | undefined;
      let status: { code: number; details: string } | undefined;
      const deframer = new MessageDeframer();
      stream.on('response', (headers) => (status = statusOf(headers)));
      stream.on('trailers', (trailers) => (status = statusOf(trailers) ?? status));
      stream.on('data', (chunk: Buffer) => deframer.push(chunk, (m) => (response = Buffer.from(m))));
      stream.on('error', reject);
      stream.on('close', () => {
        if (status && status.code !== 0) reject(new GrpcCallError(status.code, status.details));
        else if (response === undefined) reject(new GrpcCallError(13, 'no response message'));
        else resolve(response);
      });
      stream.end(frameMessage(body));
    });
  }

  /** A bidirectional stream; every response message is handed to onMessage. */
  bidi(path: string, onMessage: (message: Buffer) => void): BidiStream {
    const stream = this.session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const deframer = new MessageDeframer();
    let status: { code: number; details: string } | undefined;
    stream.on('response', (headers) => (status = statusOf(headers)));
    stream.on('trailers', (trailers) => (status = statusOf(trailers) ?? status));
    stream.on('data', (chunk: Buffer) => deframer.push(chunk, onMessage));
    const closed = new Promise<void>((resolve, reject) => {
      stream.on('error', reject);
      stream.on('close', () => {
        if (status && status.code !== 0) reject(new GrpcCallError(status.code, status.details));
        else resolve();
      });
    });
    closed.catch(() => undefined);
    return {
      write: (body) => void stream.write(frameMessage(body)),
      end: () => stream.end(),
      cancel: () => stream.close(http2.constants.NGHTTP2_CANCEL),
      closed,
    };
  }

  /** Closes gracefully, but destroys the session if streams are still open after a second. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.session.destroy();
        resolve();
      }, 1000);
      this.session.close(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
