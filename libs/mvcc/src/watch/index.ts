// Public surface of the watchable store (re-exported by @keel/mvcc).
//
// Wiring a gRPC Watch call (apps/member):
//
//   const hub = new WatchHub(store, { progressIntervalMs, responseBytesMax: maxRequestBytes });
//   // per call:
//   const stream = hub.openStream({ send: (r) => call.write(toProto(r, header)) });
//   call.on('drain', () => stream.drain());
//   call.on('data', (req) => {
//     create_request   → stream.watch({ key, rangeEnd, startRevision, watchId, prevKv,
//                                      progressNotify, fragment, filters })
//     cancel_request   → stream.cancel(watchId)
//     progress_request → stream.requestProgress()
//   });   // WatchStreamBackloggedError from these: end the call (ResourceExhausted)
//   call.on('end' | 'error' | 'cancelled', () => stream.close());
//
// toProto fills the header: cluster_id, member_id, raft_term from the member, and
// header.revision = response.revision. All other fields map one to one.
export { WatchHub, DEFAULT_WATCH_HUB_OPTIONS, type WatchHubOptions, type WatchHubStats } from './watch-hub';
export {
  WatchStream,
  WatchFilter,
  WatchStreamBackloggedError,
  WATCH_RANGE_EMPTY,
  WATCH_ID_DUPLICATE,
  type CreateWatchRequest,
} from './watch-stream';
export type { WatchSink } from './outbox';
export { NO_WATCH_ID, type WatchResponse } from './response';
