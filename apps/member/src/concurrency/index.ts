/**
 * Election and Lock services (etcd's v3election / v3lock) over a ConcurrencyBackend.
 *
 * Wiring in the member (done in server/services.ts), after the KV, Lease and Watch handler
 * objects exist:
 *   const backend = backendFromHandlers({ kv: kvH, lease: leaseH, watch: watchH });
 *   grpc.addService(ElectionService, electionHandlers({ backend }));
 *   grpc.addService(LockService, lockHandlers({ backend }));
 */
export type { ConcurrencyBackend } from './backend';
export { backendFromHandlers, type MemberHandlers } from './handler-backend';
export { electionHandlers, NOT_LEADER_MESSAGE, NO_LEADER_MESSAGE, type ElectionServiceDeps } from './election-service';
export { lockHandlers, SESSION_EXPIRED_MESSAGE, type LockServiceDeps } from './lock-service';
export { openLocalStream, localContext, type LocalStream, type LocalCallOptions } from './local-call';
