// A ConcurrencyBackend over the member's own KV, Lease and Watch handler objects (the ones
// registered with the gRPC server), called in-process.
import { etcdserverpb } from '@keel/proto';
import type { HandlerFor, ServiceHandlers, StreamHandler, UnaryHandler } from '../rpc/types';
import type { ConcurrencyBackend } from './backend';
import { localContext, openLocalStream } from './local-call';

type KV = typeof etcdserverpb.KVService;
type Lease = typeof etcdserverpb.LeaseService;
type Watch = typeof etcdserverpb.WatchService;

export interface MemberHandlers {
  readonly kv: ServiceHandlers<KV>;
  readonly lease: ServiceHandlers<Lease>;
  readonly watch: ServiceHandlers<Watch>;
}

function required<H>(handler: H | undefined, path: string): H {
  if (handler === undefined) throw new Error(`concurrency backend: no handler for ${path}`);
  return handler;
}

function unary<Req, Res>(handler: UnaryHandler<Req, Res>, path: string) {
  return async (request: Req, signal: AbortSignal): Promise<Res> => await handler(request, localContext({ path, signal }));
}

export function backendFromHandlers(handlers: MemberHandlers): ConcurrencyBackend {
  const kv = etcdserverpb.KVService;
  const range = required(handlers.kv.range, kv.range.path);
  const txn = required(handlers.kv.txn, kv.txn.path);
  const deleteRange = required(handlers.kv.deleteRange, kv.deleteRange.path);
  const leaseGrant = required(handlers.lease.leaseGrant, etcdserverpb.LeaseService.leaseGrant.path);
  const watch: HandlerFor<Watch['watch']> = required(handlers.watch.watch, etcdserverpb.WatchService.watch.path);
  return {
    range: unary(range, kv.range.path),
    txn: unary(txn, kv.txn.path),
    deleteRange: unary(deleteRange, kv.deleteRange.path),
    leaseGrant: unary(leaseGrant, etcdserverpb.LeaseService.leaseGrant.path),
    watch: (request, signal) => watchThrough(watch, request, signal),
  };
}

/** One watch on its own in-process Watch stream; skips the `created` response. */
async function* watchThrough(
  handler: StreamHandler<etcdserverpb.WatchRequest, etcdserverpb.WatchResponse>,
  create: etcdserverpb.WatchCreateRequest,
  signal: AbortSignal,
): AsyncIterable<etcdserverpb.WatchResponse> {
  const stream = openLocalStream(handler, { path: etcdserverpb.WatchService.watch.path, signal });
  stream.send({ requestUnion: { $case: 'createRequest', value: create } });
  for await (const response of stream.responses()) {
    if (response.created && !response.canceled) continue;
    yield response;
    if (response.canceled) return;
  }
}
