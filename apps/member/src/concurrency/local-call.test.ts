import { etcdserverpb } from '@keel/proto';
import type { ServiceHandlers, StreamCall } from '../rpc/types';
import { GrpcError, GrpcStatus } from '../rpc/status';
import { openLocalStream } from './local-call';
import { backendFromHandlers } from './handler-backend';
import { settle } from './test-support/settle';

describe('openLocalStream', () => {
  test('requests sent before the handler listens are delivered, then end', async () => {
    const got: number[] = [];
    let ended = false;
    const stream = openLocalStream<number, number>(
      (call) => {
        setTimeout(() => {
          call.onEnd(() => {
            ended = true;
            call.end();
          });
          call.onMessage((n) => {
            got.push(n);
            call.write(n * 10);
          });
        }, 5);
      },
      { path: '/t' },
    );
    stream.send(1);
    stream.send(2);
    stream.halfClose();
    const out: number[] = [];
    for await (const n of stream.responses()) out.push(n);
    expect(got).toEqual([1, 2]);
    expect(out).toEqual([10, 20]);
    expect(ended).toBe(true);
  });

  test('write reports backpressure at the high-water mark and drain follows reading', async () => {
    let call!: StreamCall<number, number>;
    let drains = 0;
    const stream = openLocalStream<number, number>(
      (c) => {
        call = c;
        c.onDrain(() => drains++);
      },
      { path: '/t', highWaterMark: 4 },
    );
    expect([1, 2, 3].map((n) => call.write(n))).toEqual([true, true, true]);
    expect(call.write(4)).toBe(false);
    const reader = stream.responses();
    await reader.next();
    expect(drains).toBe(0);
    await reader.next();
    await reader.next();
    expect(drains).toBe(1);
    call.fail(new GrpcError(GrpcStatus.NOT_FOUND, 'gone'));
    await expect(reader.next()).resolves.toMatchObject({ value: 4 });
    await expect(reader.next()).rejects.toMatchObject({ code: GrpcStatus.NOT_FOUND, message: 'gone' });
  });

  test('leaving the reader loop cancels the handler', async () => {
    let signal!: AbortSignal;
    const stream = openLocalStream<number, number>(
      (call) => {
        signal = call.signal;
        call.write(1);
        call.write(2);
      },
      { path: '/t' },
    );
    for await (const n of stream.responses()) if (n === 1) break;
    expect(signal.aborted).toBe(true);
    expect(stream.ended).toBe(true);
  });
});

describe('backendFromHandlers', () => {
  test('unary calls pass through and watch yields after created until cancelled', async () => {
    let watchSignal: AbortSignal | undefined;
    let created: etcdserverpb.WatchCreateRequest | undefined;
    const kv: ServiceHandlers<typeof etcdserverpb.KVService> = {
      range: async (request) => ({ header: { clusterId: 1n, memberId: 1n, revision: 9n, raftTerm: 1n }, kvs: [], more: false, count: request.limit }),
      txn: async () => ({ header: undefined, succeeded: true, responses: [] }),
      deleteRange: async () => ({ header: undefined, deleted: 0n, prevKvs: [] }),
    };
    const lease: ServiceHandlers<typeof etcdserverpb.LeaseService> = {
      leaseGrant: async (request) => ({ header: undefined, ID: 77n, TTL: request.TTL, error: '' }),
    };
    const watch: ServiceHandlers<typeof etcdserverpb.WatchService> = {
      watch: (call) => {
        watchSignal = call.signal;
        call.onMessage((request) => {
          if (request.requestUnion?.$case !== 'createRequest') return;
          created = request.requestUnion.value;
          call.write(etcdserverpb.WatchResponse.fromPartial({ created: true }));
          call.write(etcdserverpb.WatchResponse.fromPartial({ events: [{ type: 1 }] }));
          call.write(etcdserverpb.WatchResponse.fromPartial({ events: [{ type: 0 }] }));
        });
      },
    };
    const backend = backendFromHandlers({ kv, lease, watch });
    const signal = new AbortController().signal;
    expect((await backend.range(etcdserverpb.RangeRequest.fromPartial({ limit: 3n }), signal)).count).toBe(3n);
    expect((await backend.leaseGrant(etcdserverpb.LeaseGrantRequest.fromPartial({ TTL: 5n }), signal)).ID).toBe(77n);

    const request = etcdserverpb.WatchCreateRequest.fromPartial({ key: Buffer.from('k'), startRevision: 4n });
    const seen: number[] = [];
    for await (const response of backend.watch(request, signal)) {
      seen.push(response.events[0]!.type);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual([1, 0]);
    expect(created?.startRevision).toBe(4n);
    await settle(2);
    expect(watchSignal?.aborted).toBe(true);
  });

  test('a missing handler is a wiring error, found at construction', () => {
    expect(() => backendFromHandlers({ kv: {}, lease: {}, watch: {} })).toThrow(/no handler for \/etcdserverpb.KV\/Range/);
  });
});
