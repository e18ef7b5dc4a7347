import { H2ClientConnection } from './h2-connection';
import { encodeGrpcFrame, grpcFrameHeaderBytes, type HeaderList } from '@keel/h2';

/**
 * The benchmark's gRPC client: unary calls and bidirectional streams of length-prefixed,
 * uncompressed messages — only what the benchmark needs, at as little CPU per call as
 * possible, since a load generator sharing two cores with the server it measures must not
 * be the bottleneck.
 */
export class GrpcCallError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(details || `grpc status ${code}`);
  }
}

const messageHeaderBytes = grpcFrameHeaderBytes;
const frameMessage = encodeGrpcFrame;

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

interface CallStatus {
  code: number;
  details: string;
}

function statusOf(headers: HeaderList): CallStatus | undefined {
  let code: number | undefined;
  let details = '';
  for (const [name, value] of headers) {
    if (name === 'grpc-status') code = Number(value);
    else if (name === 'grpc-message') details = decodeURIComponent(value);
  }
  return code === undefined ? undefined : { code, details };
}

export interface BidiStream {
  write(body: Uint8Array): void;
  end(): void;
  /** Abandons the stream (RST_STREAM CANCEL), as a client does to stop a watch. */
  cancel(): void;
  /** Resolves when the server closes the stream (rejects on a non-OK status). */
  readonly closed: Promise<void>;
}

/** gRPC calls over one HTTP/2 connection (see H2ClientConnection for why it is hand-made). */
export class H2GrpcConnection {
  private readonly connection: H2ClientConnection;
  private readonly authority: string;
  private readonly headerBlocks = new Map<string, Buffer>();

  /** `target` is "http://host:port" or "host:port". */
  constructor(target: string) {
    const url = new URL(target.includes('://') ? target : `http://${target}`);
    this.authority = url.host;
    this.connection = new H2ClientConnection(url.hostname, Number(url.port || 80));
  }

  private headerBlock(path: string): Buffer {
    let block = this.headerBlocks.get(path);
    if (!block) {
      block = H2ClientConnection.grpcHeaderBlock(this.authority, path);
      this.headerBlocks.set(path, block);
    }
    return block;
  }

  /** One request message, one response message. */
  unary(path: string, body: Uint8Array): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      let status: CallStatus | undefined;
      let response: Buffer | undefined;
      const deframer = new MessageDeframer();
      const finish = () => {
        if (status && status.code !== 0) reject(new GrpcCallError(status.code, status.details));
        else if (response === undefined) reject(new GrpcCallError(13, 'no response message'));
        else resolve(response);
      };
      this.connection.openStream(this.headerBlock(path), {
        onHeaders: (headers, endStream) => {
          status = statusOf(headers) ?? status;
          if (endStream) finish();
        },
        onData: (data, endStream) => {
          deframer.push(data, (m) => (response = Buffer.from(m)));
          if (endStream) finish();
        },
        onReset: (code) => reject(new GrpcCallError(14, this.connection.lastError?.message ?? `stream reset (code ${code})`)),
      }, frameMessage(body), true);
    });
  }

  /** A bidirectional stream; every response message is handed to onMessage. */
  bidi(path: string, onMessage: (message: Buffer) => void): BidiStream {
    let status: CallStatus | undefined;
    const deframer = new MessageDeframer();
    let settle: (err?: Error) => void = () => undefined;
    const closed = new Promise<void>((resolve, reject) => {
      settle = (err) => (err ? reject(err) : resolve());
    });
    closed.catch(() => undefined);
    const finish = () => settle(status && status.code !== 0 ? new GrpcCallError(status.code, status.details) : undefined);
    const id = this.connection.openStream(this.headerBlock(path), {
      onHeaders: (headers, endStream) => {
        status = statusOf(headers) ?? status;
        if (endStream) finish();
      },
      onData: (data, endStream) => {
        deframer.push(data, onMessage);
        if (endStream) finish();
      },
      onReset: (code) => settle(new GrpcCallError(14, `stream reset (code ${code})`)),
    });
    return {
      write: (body) => this.connection.sendData(id, frameMessage(body), false),
      end: () => this.connection.sendData(id, Buffer.alloc(0), true),
      cancel: () => {
        this.connection.cancel(id);
        settle();
      },
      closed,
    };
  }

  close(): Promise<void> {
    this.connection.close();
    return Promise.resolve();
  }
}
