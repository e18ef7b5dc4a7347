// The etcd v3 service definitions the member serves (from libs/proto), under short names.
import { etcdserverpb, v3electionpb, v3lockpb } from '@keel/proto';

export const KVService = etcdserverpb.KVService;
export const WatchService = etcdserverpb.WatchService;
export const LeaseService = etcdserverpb.LeaseService;
export const ClusterService = etcdserverpb.ClusterService;
export const MaintenanceService = etcdserverpb.MaintenanceService;
export const AuthService = etcdserverpb.AuthService;
export const ElectionService = v3electionpb.ElectionService;
export const LockService = v3lockpb.LockService;
