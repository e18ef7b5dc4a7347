// Registers the member's gRPC services — etcd's KV, Watch, Lease, Cluster, Maintenance,
// Election and Lock, plus grpc.health.v1 — and returns the (definition, handlers) pairs the
// JSON gateway serves over HTTP/1.1.
import type { GrpcServer, ServiceHandlers } from '../rpc';
import { HealthService, healthHandlers } from '../rpc';
import type { GatewayService } from '../jsongw';
import { backendFromHandlers, electionHandlers, lockHandlers } from '../concurrency';
import {
  ClusterService,
  ElectionService,
  KVService,
  LeaseService,
  LockService,
  MaintenanceService,
  WatchService,
} from '../api/services';

export interface ServiceHandlerSet {
  kv: ServiceHandlers<typeof KVService>;
  watch: ServiceHandlers<typeof WatchService>;
  lease: ServiceHandlers<typeof LeaseService>;
  cluster: ServiceHandlers<typeof ClusterService>;
  maintenance: ServiceHandlers<typeof MaintenanceService>;
}

export function registerServices(grpc: GrpcServer, handlers: ServiceHandlerSet): GatewayService[] {
  const concurrency = backendFromHandlers({ kv: handlers.kv, lease: handlers.lease, watch: handlers.watch });
  const election = electionHandlers({ backend: concurrency });
  const lock = lockHandlers({ backend: concurrency });
  grpc.addService(KVService, handlers.kv);
  grpc.addService(WatchService, handlers.watch);
  grpc.addService(LeaseService, handlers.lease);
  grpc.addService(ClusterService, handlers.cluster);
  grpc.addService(MaintenanceService, handlers.maintenance);
  grpc.addService(ElectionService, election);
  grpc.addService(LockService, lock);
  grpc.addService(HealthService, healthHandlers((service) => (service === '' ? 'SERVING' : undefined)));
  return [
    { service: KVService, handlers: handlers.kv },
    { service: WatchService, handlers: handlers.watch },
    { service: LeaseService, handlers: handlers.lease },
    { service: ClusterService, handlers: handlers.cluster },
    { service: MaintenanceService, handlers: handlers.maintenance },
    { service: ElectionService, handlers: election },
    { service: LockService, handlers: lock },
  ];
}
