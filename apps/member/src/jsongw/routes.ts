/**
 * The URL paths of etcd 3.4's grpc-gateway (the `google.api.http` options of its .proto
 * files) and, for each, the gRPC method it calls and the message codecs that speak the
 * gateway's JSON. Every path is also served under /v3beta/, as etcd 3.4 still does.
 */
import { etcdserverpb, v3electionpb, v3lockpb } from '@keel/proto';

/** A message codec as ts-proto generates it; only the JSON side is used here. */
export interface JsonCodec {
  fromJSON(object: unknown): unknown;
  toJSON(message: never): unknown;
}

interface GenericMethod {
  readonly name: string;
  readonly requestType: JsonCodec;
  readonly responseType: JsonCodec;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

interface GenericService {
  readonly fullName: string;
  readonly methods: { readonly [key: string]: GenericMethod };
}

export interface GatewayMethod {
  /** gRPC path, e.g. "/etcdserverpb.KV/Range"; the key the handlers are looked up by. */
  readonly grpcPath: string;
  readonly request: JsonCodec;
  readonly response: JsonCodec;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  /**
   * Whether the end of the HTTP request body half-closes the call. Not for Watch: etcd's
   * watch server ignores a client's half-close, so `curl -d '{"create_request":…}'` keeps
   * streaming events after curl has sent its body; the call ends when the client hangs up.
   */
  readonly halfCloseOnBodyEnd: boolean;
}

/** Methods whose server ignores the client's half-close (see halfCloseOnBodyEnd). */
const IGNORES_HALF_CLOSE = new Set(['/etcdserverpb.Watch/Watch']);

const DEFINITIONS: readonly GenericService[] = [
  etcdserverpb.KVDefinition,
  etcdserverpb.WatchDefinition,
  etcdserverpb.LeaseDefinition,
  etcdserverpb.ClusterDefinition,
  etcdserverpb.MaintenanceDefinition,
  etcdserverpb.AuthDefinition,
  v3electionpb.ElectionDefinition,
  v3lockpb.LockDefinition,
];

/** HTTP path (after the /v3 prefix) → gRPC path. Several paths may name one method. */
const HTTP_PATHS: ReadonlyArray<readonly [string, string]> = [
  ['/kv/range', '/etcdserverpb.KV/Range'],
  ['/kv/put', '/etcdserverpb.KV/Put'],
  ['/kv/deleterange', '/etcdserverpb.KV/DeleteRange'],
  ['/kv/txn', '/etcdserverpb.KV/Txn'],
  ['/kv/compaction', '/etcdserverpb.KV/Compact'],
  ['/watch', '/etcdserverpb.Watch/Watch'],
  ['/lease/grant', '/etcdserverpb.Lease/LeaseGrant'],
  ['/lease/revoke', '/etcdserverpb.Lease/LeaseRevoke'],
  ['/kv/lease/revoke', '/etcdserverpb.Lease/LeaseRevoke'],
  ['/lease/keepalive', '/etcdserverpb.Lease/LeaseKeepAlive'],
  ['/lease/timetolive', '/etcdserverpb.Lease/LeaseTimeToLive'],
  ['/kv/lease/timetolive', '/etcdserverpb.Lease/LeaseTimeToLive'],
  ['/lease/leases', '/etcdserverpb.Lease/LeaseLeases'],
  ['/kv/lease/leases', '/etcdserverpb.Lease/LeaseLeases'],
  ['/cluster/member/add', '/etcdserverpb.Cluster/MemberAdd'],
  ['/cluster/member/remove', '/etcdserverpb.Cluster/MemberRemove'],
  ['/cluster/member/update', '/etcdserverpb.Cluster/MemberUpdate'],
  ['/cluster/member/list', '/etcdserverpb.Cluster/MemberList'],
  ['/cluster/member/promote', '/etcdserverpb.Cluster/MemberPromote'],
  ['/maintenance/alarm', '/etcdserverpb.Maintenance/Alarm'],
  ['/maintenance/status', '/etcdserverpb.Maintenance/Status'],
  ['/maintenance/defragment', '/etcdserverpb.Maintenance/Defragment'],
  // Hash and HashKV share this path in etcd's .proto; etcd's gateway answers with Hash.
  ['/maintenance/hash', '/etcdserverpb.Maintenance/Hash'],
  ['/maintenance/snapshot', '/etcdserverpb.Maintenance/Snapshot'],
  ['/maintenance/transfer-leadership', '/etcdserverpb.Maintenance/MoveLeader'],
  ['/auth/enable', '/etcdserverpb.Auth/AuthEnable'],
  ['/auth/disable', '/etcdserverpb.Auth/AuthDisable'],
  ['/auth/authenticate', '/etcdserverpb.Auth/Authenticate'],
  ['/auth/user/add', '/etcdserverpb.Auth/UserAdd'],
  ['/auth/user/get', '/etcdserverpb.Auth/UserGet'],
  ['/auth/user/list', '/etcdserverpb.Auth/UserList'],
  ['/auth/user/delete', '/etcdserverpb.Auth/UserDelete'],
  ['/auth/user/changepw', '/etcdserverpb.Auth/UserChangePassword'],
  ['/auth/user/grant', '/etcdserverpb.Auth/UserGrantRole'],
  ['/auth/user/revoke', '/etcdserverpb.Auth/UserRevokeRole'],
  ['/auth/role/add', '/etcdserverpb.Auth/RoleAdd'],
  ['/auth/role/get', '/etcdserverpb.Auth/RoleGet'],
  ['/auth/role/list', '/etcdserverpb.Auth/RoleList'],
  ['/auth/role/delete', '/etcdserverpb.Auth/RoleDelete'],
  ['/auth/role/grant', '/etcdserverpb.Auth/RoleGrantPermission'],
  ['/auth/role/revoke', '/etcdserverpb.Auth/RoleRevokePermission'],
  ['/election/campaign', '/v3electionpb.Election/Campaign'],
  ['/election/proclaim', '/v3electionpb.Election/Proclaim'],
  ['/election/leader', '/v3electionpb.Election/Leader'],
  ['/election/observe', '/v3electionpb.Election/Observe'],
  ['/election/resign', '/v3electionpb.Election/Resign'],
  ['/lock/lock', '/v3lockpb.Lock/Lock'],
  ['/lock/unlock', '/v3lockpb.Lock/Unlock'],
];

/** Version prefixes etcd 3.4 mounts its gateway under. */
export const API_PREFIXES = ['/v3', '/v3beta'] as const;

function methodsByGrpcPath(): Map<string, GatewayMethod> {
  const methods = new Map<string, GatewayMethod>();
  for (const service of DEFINITIONS) {
    for (const method of Object.values(service.methods)) {
      const grpcPath = `/${service.fullName}/${method.name}`;
      methods.set(grpcPath, {
        grpcPath,
        request: method.requestType,
        response: method.responseType,
        requestStream: method.requestStream,
        responseStream: method.responseStream,
        halfCloseOnBodyEnd: !IGNORES_HALF_CLOSE.has(grpcPath),
      });
    }
  }
  return methods;
}

/** HTTP path (without the version prefix) → method. Built once; asserts the table is consistent. */
export function gatewayRoutes(): ReadonlyMap<string, GatewayMethod> {
  const methods = methodsByGrpcPath();
  const routes = new Map<string, GatewayMethod>();
  for (const [httpPath, grpcPath] of HTTP_PATHS) {
    const method = methods.get(grpcPath);
    if (method === undefined) throw new Error(`gateway route ${httpPath}: no method ${grpcPath} in @keel/proto`);
    routes.set(httpPath, method);
  }
  return routes;
}

/** Splits "/v3/kv/range" into the route key "/kv/range"; undefined outside the gateway's prefixes. */
export function routeKeyOf(pathname: string): string | undefined {
  for (const prefix of API_PREFIXES) {
    if (pathname.startsWith(prefix + '/')) return pathname.slice(prefix.length);
  }
  return undefined;
}
