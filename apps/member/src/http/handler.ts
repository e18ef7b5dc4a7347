/**
 * The member's HTTP/1.1 endpoints: /health (etcd 3.4), /livez and /readyz (etcd 3.5 style),
 * /metrics (Prometheus) and /version. Anything else goes to `fallback` (the JSON gateway on
 * client URLs) or gets 404.
 *
 * /health follows etcd 3.4: GET only (405 otherwise); healthy → 200 `{"health":"true"}`;
 * unhealthy (an alarm not excluded by `?exclude=NAME`, no leader, or a quorum read that fails
 * within 1 s) → 503 `{"health":"false"}` followed by a newline (Go's http.Error adds it).
 */
import type http from 'node:http';
import type { Logger } from 'pino';
import type { MemberMetrics } from '../observability/metrics';

/** The etcd release whose API Keel speaks, reported by /version and `etcdctl version`-like tools. */
export const ETCD_SERVER_VERSION = '3.4.23';
/** The cluster version a 3.4 cluster reports once decided. */
export const ETCD_CLUSTER_VERSION = '3.4.0';

/** What the member core tells the health endpoints. Called per request; keep it cheap. */
export interface MemberHealthSource {
  /** True when this member currently knows a leader. */
  hasLeader(): boolean;
  /** Active alarm names as etcd prints them: "NOSPACE", "CORRUPT". */
  activeAlarms(): readonly string[];
  /**
   * A linearizable (quorum) read, as etcd's health check does; rejects on failure. The caller
   * bounds it with the signal (aborted after 1 s).
   */
  quorumRead(signal: AbortSignal): Promise<void>;
  /** A local (serializable) read; rejects when the store cannot serve one. */
  serializableRead(): Promise<void>;
  /** The cluster version, or undefined before it is decided ("not_decided"). */
  clusterVersion(): string | undefined;
}

export interface HttpHandlerOptions {
  readonly health: MemberHealthSource;
  readonly metrics: MemberMetrics;
  readonly logger?: Logger;
  /** Requests no built-in route claims (e.g. the /v3/ JSON gateway). Absent → 404. */
  readonly fallback?: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  /**
   * Add etcd's permissive CORS headers to every response and answer OPTIONS preflights, as
   * etcd's client port does with the default `--cors=*`. Default true; metrics URLs use false.
   */
  readonly cors?: boolean;
}

const CORS_HEADERS: Record<string, string> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'POST, GET, OPTIONS, PUT, DELETE',
  'Access-Control-Allow-Headers': 'accept, content-type, authorization',
};

const QUORUM_READ_TIMEOUT_MS = 1000;

export type Http1RequestHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export function createHttpHandler(options: HttpHandlerOptions): Http1RequestHandler {
  const cors = options.cors ?? true;
  return (req, res) => {
    if (cors) {
      for (const [name, value] of Object.entries(CORS_HEADERS)) res.setHeader(name, value);
      if (req.method === 'OPTIONS') {
        res.writeHead(200, { 'Content-Length': 0 });
        res.end();
        return;
      }
    }
    const url = new URL(req.url ?? '/', 'http://member');
    const route = ROUTES[url.pathname];
    if (route === undefined) {
      if (options.fallback !== undefined) options.fallback(req, res);
      else sendText(res, 404, '404 page not found\n');
      return;
    }
    route(options, req, res, url).catch((err: unknown) => {
      options.logger?.error({ err, path: url.pathname }, 'http handler failed');
      if (!res.headersSent) sendText(res, 500, 'internal error\n');
      else res.destroy();
    });
  };
}

type Route = (
  options: HttpHandlerOptions,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
) => Promise<void>;

const ROUTES: Record<string, Route> = {
  '/health': serveHealth,
  '/livez': (options, req, res, url) => serveProbe(options, req, res, url, 'livez'),
  '/readyz': (options, req, res, url) => serveProbe(options, req, res, url, 'readyz'),
  '/metrics': serveMetrics,
  '/version': serveVersion,
};

async function serveHealth(
  options: HttpHandlerOptions,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
): Promise<void> {
  if (!allowGet(req, res)) return;
  const excluded = new Set(url.searchParams.getAll('exclude'));
  const healthy = await checkHealth(options, excluded);
  if (healthy) {
    options.metrics.healthSuccess.inc();
    sendText(res, 200, '{"health":"true"}', undefined);
  } else {
    options.metrics.healthFailures.inc();
    sendText(res, 503, '{"health":"false"}\n');
  }
}

/** etcd 3.4's order: alarms first, then leader, then a quorum read. */
async function checkHealth(options: HttpHandlerOptions, excludedAlarms: Set<string>): Promise<boolean> {
  const { health, logger } = options;
  const blocking = health.activeAlarms().filter((name) => !excludedAlarms.has(name));
  if (blocking.length > 0) {
    logger?.warn({ alarms: blocking }, '/health error: alarm active');
    return false;
  }
  if (!health.hasLeader()) {
    logger?.warn('/health error: no leader');
    return false;
  }
  try {
    await withTimeout(QUORUM_READ_TIMEOUT_MS, (signal) => health.quorumRead(signal));
  } catch (err) {
    logger?.warn({ err }, '/health error: quorum read failed');
    return false;
  }
  return true;
}

interface ProbeCheck {
  readonly name: string;
  run(options: HttpHandlerOptions): Promise<void>;
}

const SERIALIZABLE_READ: ProbeCheck = { name: 'serializable_read', run: (o) => o.health.serializableRead() };
const LINEARIZABLE_READ: ProbeCheck = {
  name: 'linearizable_read',
  run: (o) => withTimeout(QUORUM_READ_TIMEOUT_MS, (signal) => o.health.quorumRead(signal)),
};
const DATA_CORRUPTION: ProbeCheck = {
  name: 'data_corruption',
  run: async (o) => {
    if (o.health.activeAlarms().includes('CORRUPT')) throw new Error('alarm activated: CORRUPT');
  },
};

/** livez: the process can serve local reads. readyz: no corruption and a quorum read works. */
const PROBES: Record<'livez' | 'readyz', readonly ProbeCheck[]> = {
  livez: [SERIALIZABLE_READ],
  readyz: [DATA_CORRUPTION, SERIALIZABLE_READ, LINEARIZABLE_READ],
};

/**
 * etcd 3.5-style probe: "ok" on success; with `?verbose` one "[+]name ok" line per check.
 * On failure 503 with "[-]name failed: reason" lines and "<probe> check failed".
 * `?exclude=name` skips a check.
 */
async function serveProbe(
  options: HttpHandlerOptions,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  probe: 'livez' | 'readyz',
): Promise<void> {
  if (!allowGet(req, res)) return;
  const excluded = new Set(url.searchParams.getAll('exclude'));
  const verbose = url.searchParams.has('verbose');
  let report = '';
  let failed = false;
  for (const check of PROBES[probe]) {
    if (excluded.has(check.name)) {
      report += `[+]${check.name} excluded: ok\n`;
      continue;
    }
    try {
      await check.run(options);
      report += `[+]${check.name} ok\n`;
    } catch (err) {
      failed = true;
      report += `[-]${check.name} failed: ${err instanceof Error ? err.message : String(err)}\n`;
    }
  }
  if (failed) sendText(res, 503, `${report}${probe} check failed\n`);
  else sendText(res, 200, verbose ? `${report}${probe} check passed\n` : 'ok');
}

async function serveMetrics(
  options: HttpHandlerOptions,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  if (!allowGet(req, res)) return;
  const body = await options.metrics.registry.metrics();
  sendText(res, 200, body, options.metrics.registry.contentType);
}

async function serveVersion(
  options: HttpHandlerOptions,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  if (!allowGet(req, res)) return;
  const body = JSON.stringify({
    etcdserver: ETCD_SERVER_VERSION,
    etcdcluster: options.health.clusterVersion() ?? 'not_decided',
  });
  sendText(res, 200, body, 'application/json');
}

function allowGet(req: http.IncomingMessage, res: http.ServerResponse): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return true;
  res.setHeader('Allow', 'GET');
  sendText(res, 405, 'Method Not Allowed\n');
  return false;
}

function sendText(res: http.ServerResponse, status: number, body: string, contentType?: string): void {
  res.writeHead(status, {
    'Content-Type': contentType ?? 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(body);
}

async function withTimeout(ms: number, run: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`timed out after ${ms} ms`));
    }, ms);
  });
  try {
    await Promise.race([run(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
