/**
 * One TCP listener per listen URL, shared by gRPC (HTTP/2) and plain HTTP/1.1, as etcd's
 * client port is. Each new connection is classified by its first bytes: the HTTP/2 client
 * preface ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", sent first by h2c prior-knowledge clients
 * such as etcdctl and grpc-js) goes to the gRPC server (its lean HTTP/2 connection at once, or
 * node:http2 after the authority check in authority-filter.ts); anything else to an HTTP/1.1
 * server running the caller's handler (/health, /metrics, /version, /v3/... JSON).
 */
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { GrpcServer } from './server';
import { AuthorityRewritingStream, earlyServerSettings, inspectFirstHeaders, withoutFirstSettingsAck } from './authority-filter';

const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** A client that sends nothing for this long after connecting is dropped. */
const CLASSIFY_TIMEOUT_MS = 10_000;
/**
 * How long an HTTP/2 connection may wait for its first request before it is handed to the
 * gRPC server anyway (then without the authority rewrite, unless it never acknowledged
 * the early SETTINGS). Requests are decided the moment they arrive, so this delays no call.
 */
const FIRST_REQUEST_WAIT_MS = 1000;

export type Http1Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface SharedListenerOptions {
  /** "http://host:port", or "https://host:port" together with `tls`. */
  readonly url: string;
  /**
   * Server TLS options (see `serverTlsOptions`), required for https URLs and ignored for http
   * ones (as etcd ignores key and cert files for http URLs). Over TLS, ALPN "h2" selects gRPC
   * and anything else HTTP/1.1.
   */
  readonly tls?: tls.TlsOptions;
  /** Extra client-certificate rule (allowed hostname), see rpc/tls `clientCertificateCheck`. */
  readonly verifyClient?: (socket: tls.TLSSocket) => string | undefined;
  /** Receives HTTP/2 connections; when absent they are closed (e.g. a metrics-only URL). */
  readonly grpc?: GrpcServer;
  /** Handles every HTTP/1.x request. */
  readonly http1: Http1Handler;
  readonly logger?: Logger;
}

export interface SharedListener {
  /** The bound address (the port is the real one when the URL asked for port 0). */
  readonly host: string;
  readonly port: number;
  /**
   * Stops accepting and destroys every connection still open. For a graceful stop, call
   * `GrpcServer.close()` first (GOAWAY, lets calls finish), then this.
   */
  close(): Promise<void>;
}

/** Binds `url` and starts classifying connections. Rejects if the address cannot be bound. */
export async function listenShared(options: SharedListenerOptions): Promise<SharedListener> {
  const { host, port, secure } = bindAddress(options.url);
  const http1 = http.createServer({ keepAlive: true }, options.http1);
  http1.on('clientError', (_err, socket) => socket.destroy());
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  let server: net.Server;
  if (secure) {
    if (options.tls === undefined) throw new Error(`listen URL ${options.url}: https needs TLS certificate and key`);
    const tlsServer = tls.createServer(options.tls, (socket) => routeTls(socket, options, http1));
    tlsServer.on('connection', track);
    // Failed handshakes (wrong CA, no client certificate) are the client's problem: log at debug.
    tlsServer.on('tlsClientError', (err) => options.logger?.debug({ err, url: options.url }, 'TLS handshake failed'));
    server = tlsServer;
  } else {
    // noDelay: small gRPC frames must not wait for Nagle's algorithm (with delayed ACKs
    // that costs 40 ms per round trip).
    server = net.createServer({ noDelay: true }, (socket) => {
      track(socket);
      classify(socket, options, http1);
    });
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => options.logger?.error({ err, url: options.url }, 'listener error'));
  const address = server.address() as net.AddressInfo;
  return {
    host: address.address,
    port: address.port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      http1.closeAllConnections();
      // Whatever is still open (idle keep-alive clients, gRPC sessions the caller did not
      // close gracefully first) is cut now, so close() never waits on a client.
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/**
 * Reads until the first bytes tell HTTP/2 from HTTP/1. HTTP/1.1 is handed over untouched at
 * once; HTTP/2 once its first request header block is in (see authority-filter.ts), or
 * after FIRST_REQUEST_WAIT_MS for a client that connects ahead of its first call.
 */
function classify(socket: net.Socket, options: SharedListenerOptions, http1: http.Server): void {
  let seen: Buffer = Buffer.alloc(0);
  let firstRequestTimer: NodeJS.Timeout | undefined;
  socket.setTimeout(CLASSIFY_TIMEOUT_MS, () => socket.destroy());
  socket.on('error', () => socket.destroy());
  const handOver = (to: (socket: net.Socket) => void): void => {
    clearTimeout(firstRequestTimer);
    socket.off('data', onData);
    socket.pause();
    socket.setTimeout(0);
    to(socket);
  };
  const toGrpc = (grpc: GrpcServer) => () => handOver((s) => handToGrpc(s, seen, grpc));
  const onData = (chunk: Buffer): void => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const compared = Math.min(seen.length, HTTP2_PREFACE.length);
    const looksHttp2 = seen.subarray(0, compared).equals(HTTP2_PREFACE.subarray(0, compared));
    if (looksHttp2 && seen.length < HTTP2_PREFACE.length) return; // need more bytes to decide
    if (!looksHttp2) {
      handOver((s) => {
        s.unshift(seen);
        http1.emit('connection', s);
        s.resume();
      });
    } else if (options.grpc === undefined) {
      handOver((s) => s.destroy());
    } else if (options.grpc.frontEnd === 'lean') {
      // The lean server answers the preface itself and accepts any :authority.
      const grpc = options.grpc;
      handOver((s) => grpc.acceptConnection(s, seen));
    } else if (inspectFirstHeaders(seen) !== undefined) {
      toGrpc(options.grpc)();
    } else if (firstRequestTimer === undefined) {
      // Answer the preface now, so clients that wait for it (grpc-go) send their request.
      socket.setTimeout(0);
      socket.write(earlyServerSettings);
      firstRequestTimer = setTimeout(toGrpc(options.grpc), FIRST_REQUEST_WAIT_MS);
    }
  };
  socket.on('data', onData);
  socket.once('close', () => clearTimeout(firstRequestTimer));
}

/**
 * Gives an HTTP/2 connection to node:http2's gRPC server: the socket itself when its first request
 * names a plain authority and the early SETTINGS was already acknowledged (no cost), else
 * a rewriting stream — needed when the authority is a URL, as etcdctl's
 * `--endpoints=http://...` sends for some commands (see authority-filter.ts).
 */
function handToGrpc(socket: net.Socket, seen: Buffer, grpc: GrpcServer): void {
  const withoutAck = inspectFirstHeaders(seen) === 'rewrite' ? undefined : withoutFirstSettingsAck(seen);
  if (withoutAck === undefined) {
    grpc.http2Server.emit('connection', new AuthorityRewritingStream(socket, seen));
    socket.resume();
    return;
  }
  socket.unshift(withoutAck);
  // No resume(): the http2 session reads the socket's handle natively and drains the
  // unshifted bytes itself (node emulates receiving data already buffered on the socket).
  grpc.http2Server.emit('connection', socket);
}

/** Over TLS the protocol was negotiated by ALPN: "h2" is gRPC, the rest HTTP/1.1. */
function routeTls(socket: tls.TLSSocket, options: SharedListenerOptions, http1: http.Server): void {
  socket.on('error', () => socket.destroy());
  const refusal = options.verifyClient?.(socket);
  if (refusal !== undefined) {
    options.logger?.warn({ remote: socket.remoteAddress, url: options.url }, `rejected client connection: ${refusal}`);
    socket.destroy();
    return;
  }
  if (socket.alpnProtocol === 'h2') {
    if (options.grpc === undefined) socket.destroy();
    else if (options.grpc.frontEnd === 'lean') options.grpc.acceptConnection(socket, Buffer.alloc(0));
    else options.grpc.http2Server.emit('connection', socket);
  } else {
    http1.emit('connection', socket);
  }
}

/** Host and port to bind for a listen URL; "localhost" binds IPv4 loopback as etcdctl dials it. */
export function bindAddress(rawUrl: string): { host: string; port: number; secure: boolean } {
  const url = new URL(rawUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`URL ${rawUrl}: only http:// and https:// are supported`);
  }
  const secure = url.protocol === 'https:';
  const port = Number(url.port === '' ? (secure ? '443' : '80') : url.port);
  let host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === 'localhost') host = '127.0.0.1';
  return { host, port, secure };
}
