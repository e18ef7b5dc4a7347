/**
 * etcd's JSON gateway on the client port: `POST /v3/<service>/<method>` with a JSON body in
 * the gateway's encoding (proto field names, int64 as strings, bytes as base64) answered by
 * the very handler objects registered with the gRPC server, called in-process.
 *
 * Unary calls answer one JSON object. Streaming calls answer chunked, one `{"result": …}`
 * object per line; client-streaming ones (watch, keepalive) read a sequence of JSON objects
 * from the request body, and the client closing its body half-closes the call.
 */
import type http from 'node:http';
import type { Logger } from 'pino';
import type { Metadata, ServiceDefinition, StreamHandler, UnaryHandler } from '../rpc/types';
import { GrpcError, GrpcStatus, toGrpcError } from '../rpc/status';
import { localContext, openLocalStream, type LocalStream } from '../concurrency/local-call';
import { gatewayRoutes, routeKeyOf, type GatewayMethod } from './routes';
import { JsonValueSplitter, parseMessage } from './json-body';
import { httpStatusOf, streamErrorChunk, unaryErrorBody } from './http-errors';

/** One service as registered with the gRPC server: its definition and its handler object. */
export interface GatewayService {
  readonly service: ServiceDefinition;
  readonly handlers: object;
}

export interface JsonGatewayOptions {
  /** Largest request message accepted (etcd's --max-request-bytes plus gRPC's slack). */
  readonly requestBytesMax?: number;
  readonly logger?: Logger;
}

/** Returns true when it took the request (any /v3/ or /v3beta/ path), false to let others answer. */
export type JsonGatewayHandler = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

type AnyHandler = UnaryHandler<unknown, unknown> | StreamHandler<unknown, unknown>;

interface BoundMethod {
  readonly method: GatewayMethod;
  readonly handler: AnyHandler;
}

const DEFAULT_REQUEST_BYTES_MAX = 2 * 1024 * 1024;
/** What grpc-go's server adds to every gRPC response; etcd's gateway forwards it as a header. */
const GRPC_CONTENT_TYPE_HEADERS = { 'Grpc-Metadata-Content-Type': 'application/grpc' };

export function createJsonGateway(services: readonly GatewayService[], options: JsonGatewayOptions = {}): JsonGatewayHandler {
  const handlersByPath = new Map<string, AnyHandler>();
  for (const { service, handlers } of services) {
    for (const [key, definition] of Object.entries(service)) {
      const handler = (handlers as Record<string, unknown>)[key];
      if (typeof handler === 'function') handlersByPath.set(definition.path, handler as AnyHandler);
    }
  }
  const routes = new Map<string, BoundMethod>();
  for (const [httpPath, method] of gatewayRoutes()) {
    const handler = handlersByPath.get(method.grpcPath);
    if (handler !== undefined) routes.set(httpPath, { method, handler });
  }
  const requestBytesMax = options.requestBytesMax ?? DEFAULT_REQUEST_BYTES_MAX;

  return (req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://member').pathname;
    const routeKey = routeKeyOf(pathname);
    if (routeKey === undefined) return false;
    const bound = routes.get(routeKey);
    if (bound === undefined) {
      sendPlain(res, 404, 'Not Found\n');
    } else if (req.method !== 'POST') {
      sendPlain(res, 405, 'Method Not Allowed\n');
    } else {
      const serve = bound.method.requestStream || bound.method.responseStream ? serveStream : serveUnary;
      serve(bound, req, res, requestBytesMax).catch((err: unknown) => {
        options.logger?.error({ err, path: pathname }, 'json gateway failed');
        if (!res.headersSent) sendPlain(res, 500, 'internal error\n');
        else res.destroy();
      });
    }
    return true;
  };
}

function sendPlain(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** gRPC metadata from the HTTP request, as grpc-gateway forwards it. */
function metadataOf(req: http.IncomingMessage): Metadata {
  const metadata: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name === 'authorization') metadata[name] = value;
    else if (name.startsWith('grpc-metadata-')) metadata[name.slice('grpc-metadata-'.length)] = value;
  }
  return metadata as Metadata;
}

/** Aborted when the client goes away before the answer is complete. */
function clientGone(res: http.ServerResponse): AbortSignal {
  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  return abort.signal;
}

async function readBody(req: http.IncomingMessage, bytesMax: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > bytesMax) throw new GrpcError(GrpcStatus.RESOURCE_EXHAUSTED, 'request message too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendUnaryError(res: http.ServerResponse, error: GrpcError, fromHandler: boolean): void {
  const body = unaryErrorBody(error);
  if (fromHandler) {
    // etcd's gateway forwards the gRPC trailers-only answer's content type as an HTTP trailer.
    res.writeHead(httpStatusOf(error.code), { 'Content-Type': 'application/json', Trailer: 'Grpc-Trailer-Content-Type' });
    res.addTrailers({ 'Grpc-Trailer-Content-Type': 'application/grpc' });
  } else {
    res.writeHead(httpStatusOf(error.code), { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  }
  res.end(body);
}

async function serveUnary(bound: BoundMethod, req: http.IncomingMessage, res: http.ServerResponse, bytesMax: number): Promise<void> {
  const { method } = bound;
  let request: unknown;
  try {
    request = parseMessage(await readBody(req, bytesMax), (o) => method.request.fromJSON(o));
  } catch (error) {
    sendUnaryError(res, toGrpcError(error), false);
    return;
  }
  const ctx = localContext({ path: method.grpcPath, metadata: metadataOf(req), signal: clientGone(res), peer: peerOf(req) });
  let response: unknown;
  try {
    response = await (bound.handler as UnaryHandler<unknown, unknown>)(request, ctx);
  } catch (error) {
    sendUnaryError(res, toGrpcError(error), true);
    return;
  }
  const body = JSON.stringify(method.response.toJSON(response as never));
  res.writeHead(200, { 'Content-Type': 'application/json', ...GRPC_CONTENT_TYPE_HEADERS, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function peerOf(req: http.IncomingMessage): string {
  return `${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? ''}`;
}

/**
 * Streaming calls. As etcd's gateway does, a body that does not decode is answered like a
 * unary error before any stream starts: INVALID_ARGUMENT (400) for a server-streaming call,
 * UNKNOWN (500) when it is the first message of a client-streaming one. A later message that
 * does not decode ends the request side, as the end of the body would.
 */
async function serveStream(bound: BoundMethod, req: http.IncomingMessage, res: http.ServerResponse, bytesMax: number): Promise<void> {
  const { method } = bound;
  const decode = (text: string) => parseMessage(text, (o) => method.request.fromJSON(o));
  const bodies = method.requestStream ? requestTexts(req, bytesMax) : undefined;
  let first: unknown;
  try {
    if (bodies === undefined) first = decode(await readBody(req, bytesMax));
    else {
      const next = await bodies.next();
      first = next.done ? undefined : decode(next.value);
    }
  } catch (error) {
    const grpcError = toGrpcError(error);
    sendUnaryError(res, bodies === undefined ? grpcError : new GrpcError(GrpcStatus.UNKNOWN, grpcError.message), false);
    return;
  }

  const stream = openLocalStream(bound.handler as StreamHandler<unknown, unknown>, {
    path: method.grpcPath,
    metadata: metadataOf(req),
    signal: clientGone(res),
    peer: peerOf(req),
  });
  if (first !== undefined) stream.send(first);
  const requestsDone = bodies === undefined ? (stream.halfClose(), Promise.resolve()) : feedRest(bodies, method, stream, decode);
  await writeResponses(method, stream, res);
  await requestsDone;
}

async function writeResponses(method: GatewayMethod, stream: LocalStream<unknown, unknown>, res: http.ServerResponse): Promise<void> {
  let wrote = false;
  try {
    for await (const response of stream.responses()) {
      if (!res.headersSent) startChunked(res, 200);
      wrote = true;
      const chunk = JSON.stringify({ result: method.response.toJSON(response as never) }) + '\n';
      if (!res.write(chunk)) await new Promise<void>((resolve) => res.once('drain', resolve));
    }
  } catch (error) {
    const grpcError = toGrpcError(error);
    if (grpcError.code === GrpcStatus.CANCELLED && res.destroyed) return;
    if (!res.headersSent) startChunked(res, wrote ? 200 : httpStatusOf(grpcError.code));
    res.write(streamErrorChunk(grpcError));
  }
  if (!res.headersSent) startChunked(res, 200);
  res.end();
}

function startChunked(res: http.ServerResponse, status: number): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...GRPC_CONTENT_TYPE_HEADERS });
}

/** The JSON objects of a client-streaming body, as text, as each completes. */
async function* requestTexts(req: http.IncomingMessage, bytesMax: number): AsyncGenerator<string> {
  const splitter = new JsonValueSplitter(bytesMax);
  for await (const chunk of req as AsyncIterable<Buffer>) yield* splitter.push(chunk);
  const rest = splitter.rest();
  if (rest !== '') yield rest;
}

/** Feeds the remaining request objects into the call, then ends its request side. */
async function feedRest(
  bodies: AsyncGenerator<string>,
  method: GatewayMethod,
  stream: LocalStream<unknown, unknown>,
  decode: (text: string) => unknown,
): Promise<void> {
  try {
    for await (const text of bodies) {
      if (stream.ended) return;
      stream.send(decode(text));
    }
  } catch {
    // Undecodable or oversized message, or the client went away: the request side is over.
  }
  if (method.halfCloseOnBodyEnd) stream.halfClose();
}
