// The JSON gateway end to end: one scenario of curl-style requests, run against real etcd
// (the referee) and against Keel, whose answers must be the same after normalising what
// legitimately differs between two clusters (cluster and member IDs, peer URL ports).
// Keel targets: "bridge" (Keel's gateway and Election/Lock services in front of etcd's
// KV/Lease/Watch) and bin/member once its composition root plugs in createJsonGateway.
import http from 'node:http';
import { keelWires, startBridge, startEtcd, startKeel, type Target } from '../src/concurrency/test-support/targets';

jest.setTimeout(60_000);

interface Answer {
  status: number;
  contentType: string | undefined;
  grpcContentType: string | undefined;
  trailer: string | undefined;
  /** Parsed JSON body, or the list of streamed chunks, or the text for non-JSON bodies. */
  body: unknown;
}

interface Step {
  readonly path: string;
  /** Request body chunks; a stream step keeps the body open until `lines` answers arrived. */
  readonly body: string | string[];
  readonly method?: string;
  readonly lines?: number;
  /** Replaces values that may differ between two correct servers. */
  readonly normalise?: (body: unknown) => unknown;
}

/** Go's and JavaScript's JSON parsers word their errors differently; the code must match. */
const anyMessage = (body: unknown) => ({ ...(body as object), error: '*', message: '*' });
const b64 = (text: string) => Buffer.from(text).toString('base64');
const LEASE = '7587';
const LEASE_HEX = (7587).toString(16);

const SCENARIO: ReadonlyArray<readonly [string, Step]> = [
  ['put foo', { path: '/v3/kv/put', body: JSON.stringify({ key: b64('foo'), value: b64('bar') }) }],
  ['put foo2 (camelCase prevKv)', { path: '/v3/kv/put', body: JSON.stringify({ key: b64('foo2'), value: b64('x'), prevKv: true }) }],
  ['overwrite foo with prev_kv', { path: '/v3/kv/put', body: JSON.stringify({ key: b64('foo'), value: b64('baz'), prev_kv: true }) }],
  ['range foo', { path: '/v3/kv/range', body: JSON.stringify({ key: b64('foo') }) }],
  ['range prefix, keys only', { path: '/v3/kv/range', body: JSON.stringify({ key: b64('foo'), range_end: b64('fop'), keys_only: true }) }],
  ['range count only via v3beta', { path: '/v3beta/kv/range', body: JSON.stringify({ key: b64('f'), range_end: b64('g'), count_only: true }) }],
  ['range missing key', { path: '/v3/kv/range', body: JSON.stringify({ key: b64('nope') }) }],
  ['range future revision', { path: '/v3/kv/range', body: JSON.stringify({ key: b64('foo'), revision: '1000' }) }],
  ['range without key', { path: '/v3/kv/range', body: '' }],
  ['put without key', { path: '/v3/kv/put', body: '{}' }],
  ['bad JSON', { path: '/v3/kv/range', body: '{bad', normalise: anyMessage }],
  ['watch with bad JSON', { path: '/v3/watch', body: '{bad', normalise: anyMessage }],
  ['observe with bad JSON', { path: '/v3/election/observe', body: '{bad', normalise: anyMessage }],
  [
    'txn compare value',
    {
      path: '/v3/kv/txn',
      body: JSON.stringify({
        compare: [{ key: b64('foo'), target: 'VALUE', result: 'EQUAL', value: b64('baz') }],
        success: [{ request_put: { key: b64('t'), value: b64('1') } }, { request_range: { key: b64('foo') } }],
        failure: [{ request_delete_range: { key: b64('foo') } }],
      }),
    },
  ],
  [
    'txn failing compare',
    {
      path: '/v3/kv/txn',
      body: JSON.stringify({
        compare: [{ key: b64('foo'), target: 'MOD', result: 'GREATER', mod_revision: '100' }],
        failure: [{ request_range: { key: b64('t') } }],
      }),
    },
  ],
  ['delete foo2 with prev_kv', { path: '/v3/kv/deleterange', body: JSON.stringify({ key: b64('foo2'), prev_kv: true }) }],
  ['compact to 3', { path: '/v3/kv/compaction', body: JSON.stringify({ revision: '3' }) }],
  ['range compacted revision', { path: '/v3/kv/range', body: JSON.stringify({ key: b64('foo'), revision: '2' }) }],
  ['lease grant', { path: '/v3/lease/grant', body: JSON.stringify({ ID: LEASE, TTL: '30' }) }],
  ['lease grant duplicate', { path: '/v3/lease/grant', body: JSON.stringify({ ID: LEASE, TTL: '30' }) }],
  ['put with lease', { path: '/v3/kv/put', body: JSON.stringify({ key: b64('leased'), value: b64('v'), lease: LEASE }) }],
  [
    'lease timetolive with keys',
    {
      path: '/v3/lease/timetolive',
      body: JSON.stringify({ ID: LEASE, keys: true }),
      normalise: (body) => ({ ...(body as object), TTL: 'remaining' }),
    },
  ],
  ['lease leases', { path: '/v3/lease/leases', body: '{}' }],
  ['lease keepalive (stream)', { path: '/v3/lease/keepalive', body: [JSON.stringify({ ID: LEASE })], lines: 1 }],
  ['lock with lease', { path: '/v3/lock/lock', body: JSON.stringify({ name: b64('mylock'), lease: LEASE }) }],
  ['unlock', { path: '/v3/lock/unlock', body: JSON.stringify({ key: b64(`mylock/${LEASE_HEX}`) }) }],
  ['election leader (none)', { path: '/v3/election/leader', body: JSON.stringify({ name: b64('el') }) }],
  ['campaign', { path: '/v3/election/campaign', body: JSON.stringify({ name: b64('el'), lease: LEASE, value: b64('p1') }) }],
  ['election leader', { path: '/v3/election/leader', body: JSON.stringify({ name: b64('el') }) }],
  ['election observe (stream)', { path: '/v3/election/observe', body: [JSON.stringify({ name: b64('el') })], lines: 1 }],
  [
    'proclaim',
    {
      path: '/v3/election/proclaim',
      body: JSON.stringify({ leader: { name: b64('el'), key: b64(`el/${LEASE_HEX}`), rev: '10', lease: LEASE }, value: b64('p2') }),
    },
  ],
  [
    'proclaim by a stale leader',
    {
      path: '/v3/election/proclaim',
      body: JSON.stringify({ leader: { name: b64('el'), key: b64(`el/${LEASE_HEX}`), rev: '3', lease: LEASE }, value: b64('p3') }),
    },
  ],
  [
    'resign',
    { path: '/v3/election/resign', body: JSON.stringify({ leader: { name: b64('el'), key: b64(`el/${LEASE_HEX}`), rev: '10', lease: LEASE } }) },
  ],
  ['revoke (kv alias path)', { path: '/v3/kv/lease/revoke', body: JSON.stringify({ ID: LEASE }) }],
  ['revoke unknown lease', { path: '/v3/lease/revoke', body: JSON.stringify({ ID: LEASE }) }],
  [
    'watch from revision 2 (stream)',
    { path: '/v3/watch', body: [JSON.stringify({ create_request: { key: b64('t'), range_end: b64('u'), start_revision: '2' } })], lines: 2 },
  ],
  ['member list', { path: '/v3/cluster/member/list', body: '{}', normalise: (body) => normaliseUrls(body) }],
  ['unknown method', { path: '/v3/kv/nothing', body: '{}' }],
  ['GET on a method', { path: '/v3/kv/range', body: '', method: 'GET' }],
];

function normaliseUrls(body: unknown): unknown {
  return JSON.parse(JSON.stringify(body).replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT'));
}

/** Cluster and member IDs differ between any two clusters; everything else must match. */
function normaliseIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normaliseIds);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([key, inner]) => [
      key,
      ['cluster_id', 'member_id', 'ID'].includes(key) && typeof inner === 'string' && inner.length > 8 ? '<id>' : normaliseIds(inner),
    ]),
  );
}

function parseBody(text: string, contentType: string | undefined, streamed: boolean): unknown {
  if (!contentType?.startsWith('application/json')) return text;
  if (!streamed) return JSON.parse(text) as unknown;
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as unknown);
}

/**
 * Sends the whole body (as `curl -d` does), then reads the answer. A stream step hangs up
 * after `lines` answers: etcd's gateway keeps a watch or observe open after the body ends,
 * and it only starts answering a client-streaming call once the body has ended.
 */
function send(url: string, step: Step): Promise<Answer> {
  const target = new URL(step.path, url);
  const streamed = step.lines !== undefined;
  return new Promise((resolve, reject) => {
    const req = http.request(target, { method: step.method ?? 'POST' }, (res) => {
      let text = '';
      let settled = false;
      const finish = () => {
        if (settled) return;
        settled = true;
        const kept = streamed ? text.split('\n').slice(0, step.lines).join('\n') : text;
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'],
          grpcContentType: res.headers['grpc-metadata-content-type'] as string | undefined,
          trailer: res.headers['trailer'] as string | undefined,
          body: parseBody(kept, res.headers['content-type'], streamed),
        });
        if (streamed) req.destroy();
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (streamed && text.split('\n').length - 1 >= step.lines!) finish();
      });
      res.on('end', finish);
      res.on('close', finish);
    });
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
    const chunks = typeof step.body === 'string' ? [step.body] : step.body;
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

async function runScenario(target: Target): Promise<Array<[string, Answer]>> {
  const transcript: Array<[string, Answer]> = [];
  for (const [name, step] of SCENARIO) {
    const answer = await send(target.url, step);
    const body = normaliseIds(step.normalise ? step.normalise(answer.body) : answer.body);
    transcript.push([name, { ...answer, body }]);
  }
  return transcript;
}

/**
 * Differences of bin/member from etcd that lie outside the gateway (reported to their
 * owners). Each is asserted to still differ, so fixing one turns this test red until the
 * entry is removed.
 */
const KNOWN_KEEL_DIFFERENCES: Record<string, string> = {};

const keelTargets: Array<[string, () => Promise<Target>, boolean]> = [
  ['bridge', startBridge, true],
  ['keel', startKeel, keelWires('createJsonGateway(')],
];

describe('JSON gateway compared with etcd', () => {
  let reference: Array<[string, Answer]>;

  beforeAll(async () => {
    const etcd = await startEtcd();
    try {
      reference = await runScenario(etcd);
    } finally {
      await etcd.close();
    }
  });

  test('the referee answers as the gateway contract says', () => {
    const byName = new Map(reference);
    expect(byName.get('range foo')).toMatchObject({
      status: 200,
      contentType: 'application/json',
      grpcContentType: 'application/grpc',
      body: { kvs: [{ key: b64('foo'), value: b64('baz'), create_revision: '2', mod_revision: '4', version: '2' }], count: '1' },
    });
    expect(byName.get('range future revision')).toMatchObject({
      status: 400,
      trailer: 'Grpc-Trailer-Content-Type',
      body: {
        error: 'etcdserver: mvcc: required revision is a future revision',
        message: 'etcdserver: mvcc: required revision is a future revision',
        code: 11,
      },
    });
    expect(byName.get('election leader (none)')).toMatchObject({ status: 500, body: { message: 'election: no leader', code: 2 } });
    expect(byName.get('revoke unknown lease')).toMatchObject({ status: 404, body: { code: 5 } });
    expect(byName.get('unknown method')).toMatchObject({ status: 404, body: 'Not Found\n' });
    expect((byName.get('watch from revision 2 (stream)')!.body as unknown[])[0]).toMatchObject({ result: { created: true } });
  });

  describe.each(keelTargets)('%s', (name, start, enabled) => {
    const maybe = enabled ? test : test.skip;
    maybe('answers every request as etcd does', async () => {
      const target = await start();
      try {
        const transcript = await runScenario(target);
        const known = name === 'keel' ? KNOWN_KEEL_DIFFERENCES : {};
        for (let i = 0; i < reference.length; i++) {
          const [step, expected] = reference[i]!;
          const actual = transcript[i]![1];
          // Step by step, so a mismatch names the request.
          if (step in known) expect([step, actual]).not.toEqual([step, expected]);
          else expect([step, actual]).toEqual([step, expected]);
        }
      } finally {
        await target.close();
      }
    });
  });
});

/** Opens a watch the way `curl -d` does (whole body, then wait) and collects answer lines. */
function openWatch(url: string, key: string): { lines: unknown[]; close(): void } {
  const lines: unknown[] = [];
  let text = '';
  const req = http.request(new URL('/v3/watch', url), { method: 'POST' }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      text += chunk;
      const parts = text.split('\n');
      text = parts.pop()!;
      for (const part of parts) if (part.trim() !== '') lines.push(JSON.parse(part));
    });
  });
  req.on('error', () => undefined);
  req.end(JSON.stringify({ create_request: { key: b64(key) } }));
  return { lines, close: () => req.destroy() };
}

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each([['etcd', startEtcd, true] as const, ...keelTargets])('a watch opened with curl -d on %s', (name, start, enabled) => {
  (enabled ? test : test.skip)('stays open after the body ends and streams later events', async () => {
    const target = await start();
    const watch = openWatch(target.url, 'live');
    try {
      await waitFor(() => watch.lines.length === 1);
      expect(watch.lines[0]).toMatchObject({ result: { created: true } });
      await send(target.url, { path: '/v3/kv/put', body: JSON.stringify({ key: b64('live'), value: b64('1') }) });
      await waitFor(() => watch.lines.length === 2);
      expect(watch.lines[1]).toMatchObject({ result: { events: [{ kv: { key: b64('live'), value: b64('1') } }] } });
    } finally {
      watch.close();
      await target.close();
    }
  });
});
