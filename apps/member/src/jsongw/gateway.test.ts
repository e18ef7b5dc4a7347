import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { etcdserverpb, v3electionpb, v3lockpb } from '@keel/proto';
import type { CallContext, ServiceHandlers, StreamCall } from '../rpc/types';
import { GrpcError, GrpcStatus } from '../rpc/status';
import { electionHandlers, lockHandlers } from '../concurrency';
import { FakeBackend } from '../concurrency/test-support/fake-backend';
import { createJsonGateway } from './gateway';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  trailers: NodeJS.Dict<string>;
  body: string;
}

/**
 * POSTs `chunks` one by one (pausing between them) and collects the answer: all of it, or
 * only its first `untilLines` lines (then hangs up, for streams that stay open).
 */
function post(
  port: number,
  path: string,
  chunks: string[] | string,
  extra: http.OutgoingHttpHeaders = {},
  method = 'POST',
  untilLines?: number,
): Promise<Reply> {
  const parts = typeof chunks === 'string' ? [chunks] : chunks;
  return new Promise((resolve, reject) => {
    const req = http.request({ port, host: '127.0.0.1', path, method, headers: extra }, (res) => {
      let body = '';
      const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, trailers: res.trailers, body });
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
        if (untilLines !== undefined && body.split('\n').length - 1 >= untilLines) {
          done();
          req.destroy();
        }
      });
      res.on('end', done);
    });
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? undefined : reject(err)));
    const writeNext = (i: number) => {
      if (i === parts.length) return void req.end();
      req.write(parts[i]);
      setTimeout(() => writeNext(i + 1), 5);
    };
    writeNext(0);
  });
}

function lines(body: string): unknown[] {
  return body
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);
}

describe('JSON gateway', () => {
  let server: http.Server;
  let port: number;
  let backend: FakeBackend;
  const seen: { range?: etcdserverpb.RangeRequest; ctx?: CallContext } = {};

  const kv: ServiceHandlers<typeof etcdserverpb.KVService> = {
    range: async (request, ctx) => {
      seen.range = request;
      seen.ctx = ctx;
      if (request.revision > 100n) {
        throw new GrpcError(GrpcStatus.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision');
      }
      return backend.range(request);
    },
    put: async (request) => {
      backend.put(request.key.toString('latin1'), request.value.toString('latin1'), request.lease);
      return { header: backend.header() };
    },
  };
  // A watch stand-in: answers each create request with `created` and its key echoed back.
  const watchCalls: Array<{ halfClosed: boolean; signal: AbortSignal }> = [];
  const watch: ServiceHandlers<typeof etcdserverpb.WatchService> = {
    watch: (call: StreamCall<etcdserverpb.WatchRequest, etcdserverpb.WatchResponse>) => {
      const seenCall = { halfClosed: false, signal: call.signal };
      watchCalls.push(seenCall);
      call.onEnd(() => (seenCall.halfClosed = true));
      let id = 0n;
      call.onMessage((request) => {
        if (request.requestUnion?.$case !== 'createRequest') return;
        const { key } = request.requestUnion.value;
        if (key.toString() === 'boom') return call.fail(new GrpcError(GrpcStatus.RESOURCE_EXHAUSTED, 'too many'));
        call.write(
          etcdserverpb.WatchResponse.fromPartial({
            header: { revision: 7n },
            watchId: id++,
            created: true,
            events: [{ kv: { key, value: Buffer.from('v') } }],
          }),
        );
      });
    },
  };

  beforeAll(async () => {
    backend = new FakeBackend();
    const gateway = createJsonGateway([
      { service: etcdserverpb.KVService, handlers: kv },
      { service: etcdserverpb.WatchService, handlers: watch },
      { service: v3electionpb.ElectionService, handlers: electionHandlers({ backend }) },
      { service: v3lockpb.LockService, handlers: lockHandlers({ backend }) },
    ]);
    server = http.createServer((req, res) => {
      if (!gateway(req, res)) {
        res.writeHead(418);
        res.end('not mine');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test('unary calls speak etcd JSON: base64 bytes, int64 strings, proto field names', async () => {
    const put = await post(port, '/v3/kv/put', JSON.stringify({ key: 'Zm9v', value: 'YmFy' }));
    expect(put.status).toBe(200);
    expect(put.headers['content-type']).toBe('application/json');
    expect(put.headers['grpc-metadata-content-type']).toBe('application/grpc');
    const range = await post(port, '/v3/kv/range', JSON.stringify({ key: 'Zm9v' }));
    const body = JSON.parse(range.body);
    expect(body.header).toEqual({ cluster_id: '1', member_id: '2', revision: String(backend.revision), raft_term: '3' });
    expect(body.kvs).toEqual([{ key: 'Zm9v', create_revision: String(backend.revision), mod_revision: String(backend.revision), version: '1', value: 'YmFy' }]);
    expect(body.count).toBe('1');
  });

  test('camelCase field names are accepted too, as Go jsonpb does', async () => {
    await post(port, '/v3/kv/range', JSON.stringify({ key: 'YQ==', rangeEnd: 'Yg==', keysOnly: true, limit: 5 }));
    expect(seen.range?.rangeEnd.toString()).toBe('b');
    expect(seen.range?.keysOnly).toBe(true);
    expect(seen.range?.limit).toBe(5n);
  });

  test('an empty body is an empty request; the Authorization header reaches the handler', async () => {
    await post(port, '/v3/kv/range', '', { authorization: 'token-1' });
    expect(seen.range?.key.length).toBe(0);
    expect(seen.ctx?.metadata.authorization).toBe('token-1');
  });

  test('handler errors become etcd gateway error bodies with the mapped HTTP status', async () => {
    const reply = await post(port, '/v3/kv/range', JSON.stringify({ key: 'Zm9v', revision: '1000' }));
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toEqual({
      error: 'etcdserver: mvcc: required revision is a future revision',
      message: 'etcdserver: mvcc: required revision is a future revision',
      code: 11,
    });
    expect(reply.trailers['grpc-trailer-content-type']).toBe('application/grpc');
    const noLeader = await post(port, '/v3/election/leader', JSON.stringify({ name: 'eA==' }));
    expect(noLeader.status).toBe(500);
    expect(JSON.parse(noLeader.body)).toMatchObject({ message: 'election: no leader', code: 2 });
  });

  test('malformed JSON is INVALID_ARGUMENT (400, code 3)', async () => {
    for (const body of ['{bad json', '{"key":"Zm9v","limit":"x"}', '[1]']) {
      const reply = await post(port, '/v3/kv/range', body);
      expect(reply.status).toBe(400);
      expect(JSON.parse(reply.body)).toMatchObject({ code: 3 });
    }
  });

  test('unknown methods, other verbs and other prefixes', async () => {
    const missing = await post(port, '/v3/kv/nothing', '{}');
    expect([missing.status, missing.body]).toEqual([404, 'Not Found\n']);
    const unwired = await post(port, '/v3/lease/grant', '{}');
    expect(unwired.status).toBe(404);
    const get = await post(port, '/v3/kv/range', '', {}, 'GET');
    expect([get.status, get.body]).toEqual([405, 'Method Not Allowed\n']);
    expect((await post(port, '/v3beta/kv/range', '{"key":"Zm9v"}')).status).toBe(200);
    expect((await post(port, '/v3alpha/kv/range', '{}')).status).toBe(418);
    expect((await post(port, '/health', '')).status).toBe(418);
  });

  test('watch reads a stream of request objects and answers one {"result"} line each', async () => {
    const first = JSON.stringify({ create_request: { key: 'YQ==' } });
    const second = JSON.stringify({ create_request: { key: 'Yg==', start_revision: '1' } });
    // The second object arrives split across chunks, the first glued to whitespace.
    const reply = await post(port, '/v3/watch', [first + '\n  ', second.slice(0, 10), second.slice(10) + '\n'], {}, 'POST', 2);
    expect(reply.status).toBe(200);
    expect(reply.headers['transfer-encoding']).toBe('chunked');
    expect(lines(reply.body)).toEqual([
      { result: { header: { revision: '7' }, created: true, events: [{ kv: { key: 'YQ==', value: 'dg==' } }] } },
      { result: { header: { revision: '7' }, watch_id: '1', created: true, events: [{ kv: { key: 'Yg==', value: 'dg==' } }] } },
    ]);
  });

  test("the end of a watch's body does not end the watch; hanging up does", async () => {
    const before = watchCalls.length;
    await post(port, '/v3/watch', JSON.stringify({ create_request: { key: 'YQ==' } }), {}, 'POST', 1);
    const call = watchCalls[before]!;
    // The hang-up reaches the server asynchronously (slowly on a loaded machine): wait for the
    // abort itself, bounded, instead of a fixed pause.
    if (!call.signal.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5_000);
        call.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
    expect(call.halfClosed).toBe(false);
    expect(call.signal.aborted).toBe(true);
  });

  test("streams whose body does not decode are refused as etcd's gateway does", async () => {
    const watchReply = await post(port, '/v3/watch', '{bad');
    expect(watchReply.status).toBe(500);
    expect(JSON.parse(watchReply.body)).toMatchObject({ code: 2 });
    const observeReply = await post(port, '/v3/election/observe', '{bad');
    expect(observeReply.status).toBe(400);
    expect(JSON.parse(observeReply.body)).toMatchObject({ code: 3 });
    // A bad message after a good one only ends the request side.
    const later = await post(port, '/v3/watch', [JSON.stringify({ create_request: { key: 'YQ==' } }), '{bad'], {}, 'POST', 1);
    expect(lines(later.body)).toHaveLength(1);
  });

  test('a stream that fails reports the error as its last chunk', async () => {
    const ok = JSON.stringify({ create_request: { key: 'YQ==' } });
    const boom = JSON.stringify({ create_request: { key: Buffer.from('boom').toString('base64') } });
    const reply = await post(port, '/v3/watch', [ok, boom]);
    expect(reply.status).toBe(200);
    const chunks = lines(reply.body);
    expect(chunks).toHaveLength(2);
    expect(chunks[1]).toEqual({
      error: { grpc_code: 8, http_code: 429, message: 'too many', http_status: 'Too Many Requests' },
    });
    // Failing before any result sets the HTTP status from the code.
    const early = await post(port, '/v3/watch', [boom]);
    expect(early.status).toBe(429);
  });

  test('lock, election leader and observe run through the same handlers', async () => {
    const lease = backend.grant();
    const locked = await post(port, '/v3/lock/lock', JSON.stringify({ name: 'bXk=', lease: lease.toString() }));
    const lockBody = JSON.parse(locked.body);
    expect(Buffer.from(lockBody.key, 'base64').toString()).toBe(`my/${lease.toString(16)}`);

    const campaign = await post(port, '/v3/election/campaign', JSON.stringify({ name: 'ZQ==', lease: lease.toString(), value: 'cDE=' }));
    const leader = JSON.parse(campaign.body).leader;
    expect(leader).toMatchObject({ name: 'ZQ==', lease: lease.toString() });

    // Observe streams until the client goes away; read the first line, then hang up.
    const firstLine = await new Promise<unknown>((resolve, reject) => {
      const req = http.request({ port, host: '127.0.0.1', path: '/v3/election/observe', method: 'POST' }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
          if (text.includes('\n')) {
            resolve(JSON.parse(text.split('\n')[0]!));
            req.destroy();
          }
        });
      });
      req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
      req.end(JSON.stringify({ name: 'ZQ==' }));
    });
    expect(firstLine).toMatchObject({ result: { kv: { key: leader.key, value: 'cDE=', lease: lease.toString() } } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(backend.openWatches).toBe(0);
  });
});
