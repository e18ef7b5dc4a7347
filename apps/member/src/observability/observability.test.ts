import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger, pinoLevel } from './logger';
import { createMetrics, grpcOutcomeRecorder } from './metrics';

describe('createLogger', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'keel-logger-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('writes JSON lines to a file output at the configured level', () => {
    const file = path.join(dir, 'member.log');
    const logger = createLogger({ level: 'warn', outputs: [file], base: { member: 'infra1' }, sync: true });
    logger.info('not written');
    logger.warn({ peer: 'abc' }, 'written');
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', msg: 'written', peer: 'abc', member: 'infra1' });
  });

  test('fans out to several outputs', () => {
    const [a, b] = [path.join(dir, 'a.log'), path.join(dir, 'b.log')];
    const logger = createLogger({ level: 'debug', outputs: [a, b], sync: true });
    logger.debug('both');
    expect(readFileSync(a, 'utf8')).toContain('"msg":"both"');
    expect(readFileSync(b, 'utf8')).toContain('"msg":"both"');
  });

  test("etcd's level names map onto pino's", () => {
    expect(pinoLevel('panic')).toBe('fatal');
    expect(pinoLevel('warn')).toBe('warn');
    expect(() => pinoLevel('loud')).toThrow('unknown log level');
  });
});

describe('createMetrics', () => {
  test('each member gets its own registry, and gRPC outcomes use grpc-go code names', async () => {
    const m1 = createMetrics({ processMetrics: false });
    const m2 = createMetrics({ processMetrics: false });
    grpcOutcomeRecorder(m1)({ path: '/etcdserverpb.KV/Range', service: 'etcdserverpb.KV', method: 'Range', kind: 'unary', code: 5, durationMs: 1, receivedBytes: 20, sentBytes: 7 });
    const text = await m1.registry.metrics();
    expect(text).toContain('grpc_server_handled_total{grpc_type="unary",grpc_service="etcdserverpb.KV",grpc_method="Range",grpc_code="NotFound"} 1');
    expect(text).toContain('etcd_network_client_grpc_received_bytes_total 20');
    expect(text).toContain('etcd_network_client_grpc_sent_bytes_total 7');
    expect(await m2.registry.metrics()).not.toContain('grpc_code="NotFound"');
  });
});

describe('per-call gRPC counts', () => {
  const call = (method: string, code: number, receivedBytes: number, sentBytes: number) => ({
    path: `/etcdserverpb.KV/${method}`,
    service: 'etcdserverpb.KV',
    method,
    kind: 'unary' as const,
    code,
    durationMs: 1,
    receivedBytes,
    sentBytes,
  });

  test('are published on each read with the totals direct counting would give', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const record = grpcOutcomeRecorder(metrics);
    for (let i = 0; i < 5; i++) record(call('Put', 0, 10, 3));
    record(call('Put', 14, 10, 0));
    record(call('Range', 0, 4, 100));
    let text = await metrics.registry.metrics();
    expect(text).toContain('grpc_server_started_total{grpc_type="unary",grpc_service="etcdserverpb.KV",grpc_method="Put"} 6');
    expect(text).toContain('grpc_server_handled_total{grpc_type="unary",grpc_service="etcdserverpb.KV",grpc_method="Put",grpc_code="OK"} 5');
    expect(text).toContain('grpc_server_handled_total{grpc_type="unary",grpc_service="etcdserverpb.KV",grpc_method="Put",grpc_code="Unavailable"} 1');
    expect(text).toContain('grpc_server_handled_total{grpc_type="unary",grpc_service="etcdserverpb.KV",grpc_method="Range",grpc_code="OK"} 1');
    expect(text).toContain('etcd_network_client_grpc_received_bytes_total 64');
    expect(text).toContain('etcd_network_client_grpc_sent_bytes_total 115');
    // A second read adds only what happened since; nothing is counted twice.
    record(call('Put', 0, 1, 1));
    text = await metrics.registry.metrics();
    expect(text).toContain('grpc_method="Put",grpc_code="OK"} 6');
    expect(text).toContain('grpc_server_started_total{grpc_type="unary",grpc_service="etcdserverpb.KV",grpc_method="Put"} 7');
    expect(text).toContain('etcd_network_client_grpc_received_bytes_total 65');
    // Reading one metric directly publishes too.
    record(call('Range', 0, 0, 0));
    const handled = await metrics.grpcHandled.get();
    expect(handled.values.find((v) => v.labels.grpc_method === 'Range')?.value).toBe(2);
  });

  test('a method with no finished calls has no series', async () => {
    const metrics = createMetrics({ processMetrics: false });
    expect(await metrics.registry.metrics()).not.toContain('grpc_method=');
  });
});
