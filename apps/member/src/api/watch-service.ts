// The etcdserverpb.Watch service: one bidi call is one hub stream. Client requests map to
// create/cancel/progress on the stream; the hub's responses are stamped with this member's
// header fields and written to the call, with the call's backpressure fed back to the hub.
import { WatchStreamBackloggedError, type WatchHub, type WatchSink } from '@keel/mvcc';
import type { etcdserverpb } from '@keel/proto';
import type { ServiceHandlers, StreamCall } from '../rpc/types';
import type { WatchService } from './services';
import type { HeaderFn } from './header';
import { EventPbCache, responseToPb } from './watch-pb';
import { GrpcError, GrpcStatus } from '../rpc/status';

export interface WatchServiceDeps {
  hub: WatchHub;
  header: HeaderFn;
}

type WatchCall = StreamCall<etcdserverpb.WatchRequest, etcdserverpb.WatchResponse>;

export function watchHandlers(deps: WatchServiceDeps): ServiceHandlers<typeof WatchService> {
  // Shared by all streams: a write's events reach every stream's watchers one after another.
  const events = new EventPbCache();
  return {
    watch: (call: WatchCall) => {
      const sink: WatchSink = {
        send: (response) => (call.ended ? true : call.write(responseToPb(response, deps.header, events))),
      };
      const stream = deps.hub.openStream(sink);
      call.onDrain(() => stream.drain());
      call.signal.addEventListener('abort', () => stream.close(), { once: true });
      // A half-close only means no more requests: like etcd, keep sending events until the
      // client cancels the call (the abort above closes the stream then).
      call.onEnd(() => undefined);
      call.onMessage((request) => {
        if (call.ended) return;
        try {
          handleRequest(stream, request);
        } catch (error) {
          stream.close();
          if (error instanceof WatchStreamBackloggedError) call.fail(new GrpcError(GrpcStatus.RESOURCE_EXHAUSTED, error.message));
          else call.fail(error);
        }
      });
    },
  };
}

function handleRequest(stream: ReturnType<WatchHub['openStream']>, request: etcdserverpb.WatchRequest): void {
  const union = request.requestUnion;
  if (!union) return;
  switch (union.$case) {
    case 'createRequest': {
      const create = union.value;
      stream.watch({
        key: create.key,
        rangeEnd: create.rangeEnd.length > 0 ? create.rangeEnd : undefined,
        startRevision: Number(create.startRevision),
        watchId: create.watchId,
        prevKv: create.prevKv,
        progressNotify: create.progressNotify,
        fragment: create.fragment,
        filters: create.filters.map((f) => f as number),
      });
      return;
    }
    case 'cancelRequest':
      stream.cancel(union.value.watchId);
      return;
    case 'progressRequest':
      stream.requestProgress();
      return;
  }
}
