import { createMetrics, type MemberMetrics } from '../observability/metrics';
import { listenShared, type SharedListener } from '../rpc/listener';
import { createHttpHandler, type MemberHealthSource } from './handler';
import { listenMetricsUrls } from './metrics-listener';

interface FakeHealth extends MemberHealthSource {
  leader: boolean;
  alarms: string[];
  quorumOk: boolean | 'hang';
  localOk: boolean;
}

function fakeHealth(): FakeHealth {
  const h: FakeHealth = {
    leader: true,
    alarms: [],
    quorumOk: true,
    localOk: true,
    hasLeader: () => h.leader,
    activeAlarms: () => h.alarms,
    quorumRead: (signal) =>
      h.quorumOk === 'hang'
        ? new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))))
        : h.quorumOk
          ? Promise.resolve()
          : Promise.reject(new Error('etcdserver: request timed out')),
    serializableRead: () => (h.localOk ? Promise.resolve() : Promise.reject(new Error('store closed'))),
    clusterVersion: () => '3.4.0',
  };
  return h;
}

describe('member HTTP endpoints', () => {
  let listener: SharedListener;
  let health: FakeHealth;
  let metrics: MemberMetrics;
  let base: string;

  beforeAll(async () => {
    metrics = createMetrics({ processMetrics: false });
    const handler = createHttpHandler({
      health: {
        hasLeader: () => health.hasLeader(),
        activeAlarms: () => health.activeAlarms(),
        quorumRead: (s) => health.quorumRead(s),
        serializableRead: () => health.serializableRead(),
        clusterVersion: () => health.clusterVersion(),
      },
      metrics,
      fallback: (req, res) => {
        res.writeHead(200);
        res.end(`gateway ${req.url}`);
      },
    });
    listener = await listenShared({ url: 'http://127.0.0.1:0', http1: handler });
    base = `http://127.0.0.1:${listener.port}`;
  });
  beforeEach(() => {
    health = fakeHealth();
  });
  afterAll(() => listener.close());

  const get = async (path: string, init?: RequestInit): Promise<{ status: number; body: string; type: string | null }> => {
    const res = await fetch(base + path, init);
    return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
  };

  test('/health is {"health":"true"} with 200 when there is a leader, no alarm and a quorum read works', async () => {
    await expect(get('/health')).resolves.toMatchObject({ status: 200, body: '{"health":"true"}' });
  });

  test('/health is 503 {"health":"false"} without a leader', async () => {
    health.leader = false;
    await expect(get('/health')).resolves.toMatchObject({ status: 503, body: '{"health":"false"}\n' });
  });

  test('/health is 503 with an active alarm unless excluded', async () => {
    health.alarms = ['NOSPACE'];
    await expect(get('/health')).resolves.toMatchObject({ status: 503 });
    await expect(get('/health?exclude=NOSPACE')).resolves.toMatchObject({ status: 200, body: '{"health":"true"}' });
  });

  test('/health is 503 when the quorum read fails or takes over a second', async () => {
    health.quorumOk = false;
    await expect(get('/health')).resolves.toMatchObject({ status: 503 });
    health.quorumOk = 'hang';
    const started = Date.now();
    await expect(get('/health')).resolves.toMatchObject({ status: 503 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  test('/health counts successes and failures in metrics', async () => {
    const before = (await metrics.healthFailures.get()).values[0]?.value ?? 0;
    health.leader = false;
    await get('/health');
    expect((await metrics.healthFailures.get()).values[0]?.value).toBe(before + 1);
  });

  test('/health refuses other methods with 405', async () => {
    const res = await get('/health', { method: 'POST' });
    expect(res.status).toBe(405);
  });

  test('/livez and /readyz follow the etcd 3.5 probe format', async () => {
    await expect(get('/livez')).resolves.toMatchObject({ status: 200, body: 'ok' });
    await expect(get('/readyz?verbose')).resolves.toMatchObject({
      status: 200,
      body: '[+]data_corruption ok\n[+]serializable_read ok\n[+]linearizable_read ok\nreadyz check passed\n',
    });
    health.quorumOk = false;
    const failed = await get('/readyz');
    expect(failed.status).toBe(503);
    expect(failed.body).toContain('[-]linearizable_read failed: etcdserver: request timed out\n');
    expect(failed.body).toMatch(/readyz check failed\n$/);
    await expect(get('/livez')).resolves.toMatchObject({ status: 200 });
    await expect(get('/readyz?exclude=linearizable_read')).resolves.toMatchObject({ status: 200 });
    health.alarms = ['CORRUPT'];
    expect((await get('/readyz?exclude=linearizable_read')).body).toContain('[-]data_corruption failed');
  });

  test('/metrics exposes etcd metric names in Prometheus text format', async () => {
    metrics.hasLeader.set(1);
    metrics.walFsyncDuration.observe(0.0004);
    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/plain/);
    expect(res.body).toContain('etcd_server_has_leader 1');
    expect(res.body).toContain('etcd_disk_wal_fsync_duration_seconds_bucket{le="0.001"} 1');
    expect(res.body).toContain('# TYPE grpc_server_handled_total counter');
  });

  test('/version reports the etcd server and cluster versions as JSON', async () => {
    const res = await get('/version');
    expect(res.type).toBe('application/json');
    expect(JSON.parse(res.body)).toEqual({ etcdserver: '3.4.23', etcdcluster: '3.4.0' });
  });

  test("etcd's CORS headers are on client-port responses and OPTIONS is answered", async () => {
    const res = await fetch(`${base}/health`);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const preflight = await fetch(`${base}/v3/kv/put`, { method: 'OPTIONS' });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-methods')).toBe('POST, GET, OPTIONS, PUT, DELETE');
  });

  test('other paths go to the fallback (the JSON gateway)', async () => {
    await expect(get('/v3/kv/range')).resolves.toMatchObject({ body: 'gateway /v3/kv/range' });
  });
});

describe('--listen-metrics-urls listeners', () => {
  test('serve the endpoints but nothing else', async () => {
    const health = fakeHealth();
    const [listener] = await listenMetricsUrls(['http://127.0.0.1:0'], { health, metrics: createMetrics({ processMetrics: false }) });
    try {
      const base = `http://127.0.0.1:${listener!.port}`;
      expect((await fetch(`${base}/health`)).status).toBe(200);
      expect((await fetch(`${base}/v3/kv/range`)).status).toBe(404);
      expect((await fetch(`${base}/health`)).headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await listener!.close();
    }
  });
});
