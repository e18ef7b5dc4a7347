/**
 * --listen-metrics-urls: plain HTTP/1.1 listeners serving only the built-in endpoints
 * (/metrics, /health, /livez, /readyz, /version), never gRPC or the JSON gateway. https URLs use
 * the client TLS files (`serverTlsOptions(config.clientTls)`), as etcd does.
 */
import type tls from 'node:tls';
import type { Logger } from 'pino';
import { listenShared, type SharedListener } from '../rpc/listener';
import { createHttpHandler, type HttpHandlerOptions } from './handler';

export async function listenMetricsUrls(
  urls: readonly string[],
  options: Omit<HttpHandlerOptions, 'fallback' | 'cors'> & { readonly logger?: Logger; readonly tls?: tls.TlsOptions },
): Promise<SharedListener[]> {
  const handler = createHttpHandler({ ...options, cors: false });
  const listeners: SharedListener[] = [];
  try {
    for (const url of urls) {
      listeners.push(await listenShared({ url, http1: handler, logger: options.logger, ...(options.tls ? { tls: options.tls } : {}) }));
    }
  } catch (err) {
    await Promise.all(listeners.map((listener) => listener.close()));
    throw err;
  }
  return listeners;
}
