/**
 * The lean front end: one H2ServerConnection per HTTP/2 socket the listener hands over,
 * tracked so the server can shut them all down gracefully.
 */
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { CallStream } from '../call';
import type { Metadata } from '../types';
import { H2ServerConnection } from './connection';
import type { LocalSettings } from './settings';

export interface LeanFrontEndOptions {
  readonly maxConcurrentStreams: number;
  readonly keepaliveIntervalMs: number;
  readonly keepaliveTimeoutMs: number;
  readonly logger?: Logger;
  readonly dispatch: (stream: CallStream, metadata: Metadata) => void;
}

/** Receive windows as the node:http2 front end had them: 1 MiB per stream, 16 MiB per connection. */
const STREAM_WINDOW_BYTES = 1024 * 1024;
const CONNECTION_WINDOW_BYTES = 16 * 1024 * 1024;
/** Request header blocks above this are refused (grpc-go's client sends at most 16 MiB; tokens are small). */
const MAX_HEADER_BLOCK_BYTES = 1024 * 1024;

export class LeanFrontEnd {
  private readonly connections = new Set<H2ServerConnection>();
  private readonly local: LocalSettings;

  constructor(private readonly options: LeanFrontEndOptions) {
    this.local = {
      maxConcurrentStreams: options.maxConcurrentStreams,
      streamWindowBytes: STREAM_WINDOW_BYTES,
      connectionWindowBytes: CONNECTION_WINDOW_BYTES,
      maxFrameBytes: 16384,
      maxHeaderBlockBytes: MAX_HEADER_BLOCK_BYTES,
    };
  }

  /** Serves HTTP/2 on `socket`; `head` holds bytes already read from it (the client preface onwards). */
  accept(socket: Duplex, head: Buffer): void {
    if (socket.destroyed) return;
    // Small frames must not wait for Nagle's algorithm (the TLS listener does not set noDelay).
    (socket as Partial<Pick<net.Socket, 'setNoDelay'>>).setNoDelay?.(true);
    const connection: H2ServerConnection = new H2ServerConnection(socket, head, {
      local: this.local,
      dispatch: this.options.dispatch,
      keepaliveIntervalMs: this.options.keepaliveIntervalMs,
      keepaliveTimeoutMs: this.options.keepaliveTimeoutMs,
      ...(this.options.logger !== undefined ? { logger: this.options.logger } : {}),
      onClose: () => this.connections.delete(connection),
    });
    this.connections.add(connection);
    socket.resume();
  }

  async close(graceMs: number): Promise<void> {
    await Promise.all([...this.connections].map((connection) => connection.shutdown(graceMs)));
  }
}
