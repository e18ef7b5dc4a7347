import { Metadata, status, type ServiceError } from '@grpc/grpc-js';

/** A client-visible etcd error: clients match on both the gRPC code and the exact text. */
export interface EtcdErrorSpec {
  readonly code: status;
  readonly message: string;
}

function spec(code: status, message: string): EtcdErrorSpec {
  return { code, message };
}

/**
 * Every error the etcd 3.4 server reports to clients through gRPC status (the rpctypes
 * set). The texts are the wire contract: clientv3, etcdctl and the etcd3 npm client
 * recognise errors by comparing them, so they must not be reworded.
 */
export const etcdErrors = {
  // Request validation.
  EmptyKey: spec(status.INVALID_ARGUMENT, 'etcdserver: key is not provided'),
  KeyNotFound: spec(status.INVALID_ARGUMENT, 'etcdserver: key not found'),
  ValueProvided: spec(status.INVALID_ARGUMENT, 'etcdserver: value is provided'),
  LeaseProvided: spec(status.INVALID_ARGUMENT, 'etcdserver: lease is provided'),
  TooManyOps: spec(status.INVALID_ARGUMENT, 'etcdserver: too many operations in txn request'),
  DuplicateKey: spec(status.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request'),
  RequestTooLarge: spec(status.INVALID_ARGUMENT, 'etcdserver: request is too large'),
  TooManyRequests: spec(status.RESOURCE_EXHAUSTED, 'etcdserver: too many requests'),

  // MVCC store.
  Compacted: spec(status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'),
  FutureRev: spec(status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'),
  NoSpace: spec(status.RESOURCE_EXHAUSTED, 'etcdserver: mvcc: database space exceeded'),

  // Leases and watches.
  LeaseNotFound: spec(status.NOT_FOUND, 'etcdserver: requested lease not found'),
  LeaseExist: spec(status.FAILED_PRECONDITION, 'etcdserver: lease already exists'),
  LeaseTTLTooLarge: spec(status.OUT_OF_RANGE, 'etcdserver: too large lease TTL'),
  WatchCanceled: spec(status.CANCELLED, 'etcdserver: watch canceled'),

  // Membership.
  MemberExist: spec(status.FAILED_PRECONDITION, 'etcdserver: member ID already exist'),
  PeerURLExist: spec(status.FAILED_PRECONDITION, 'etcdserver: Peer URLs already exists'),
  MemberNotEnoughStarted: spec(
    status.FAILED_PRECONDITION,
    'etcdserver: re-configuration failed due to not enough started members',
  ),
  MemberBadURLs: spec(status.INVALID_ARGUMENT, 'etcdserver: given member URLs are invalid'),
  MemberNotFound: spec(status.NOT_FOUND, 'etcdserver: member not found'),
  MemberNotLearner: spec(status.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member'),
  LearnerNotReady: spec(
    status.FAILED_PRECONDITION,
    'etcdserver: can only promote a learner member which is in sync with leader',
  ),
  TooManyLearners: spec(status.FAILED_PRECONDITION, 'etcdserver: too many learner members in cluster'),

  // Auth.
  RootUserNotExist: spec(status.FAILED_PRECONDITION, 'etcdserver: root user does not exist'),
  RootRoleNotExist: spec(status.FAILED_PRECONDITION, 'etcdserver: root user does not have root role'),
  UserAlreadyExist: spec(status.FAILED_PRECONDITION, 'etcdserver: user name already exists'),
  UserEmpty: spec(status.INVALID_ARGUMENT, 'etcdserver: user name is empty'),
  UserNotFound: spec(status.FAILED_PRECONDITION, 'etcdserver: user name not found'),
  RoleAlreadyExist: spec(status.FAILED_PRECONDITION, 'etcdserver: role name already exists'),
  RoleNotFound: spec(status.FAILED_PRECONDITION, 'etcdserver: role name not found'),
  RoleEmpty: spec(status.INVALID_ARGUMENT, 'etcdserver: role name is empty'),
  AuthFailed: spec(status.INVALID_ARGUMENT, 'etcdserver: authentication failed, invalid user ID or password'),
  PermissionDenied: spec(status.PERMISSION_DENIED, 'etcdserver: permission denied'),
  RoleNotGranted: spec(status.FAILED_PRECONDITION, 'etcdserver: role is not granted to the user'),
  PermissionNotGranted: spec(status.FAILED_PRECONDITION, 'etcdserver: permission is not granted to the role'),
  AuthNotEnabled: spec(status.FAILED_PRECONDITION, 'etcdserver: authentication is not enabled'),
  InvalidAuthToken: spec(status.UNAUTHENTICATED, 'etcdserver: invalid auth token'),
  InvalidAuthMgmt: spec(status.INVALID_ARGUMENT, 'etcdserver: invalid auth management'),
  AuthOldRevision: spec(status.INVALID_ARGUMENT, 'etcdserver: revision of auth store is old'),

  // Cluster health and leadership. Unavailable tells clients to retry (possibly elsewhere).
  NoLeader: spec(status.UNAVAILABLE, 'etcdserver: no leader'),
  NotLeader: spec(status.FAILED_PRECONDITION, 'etcdserver: not leader'),
  LeaderChanged: spec(status.UNAVAILABLE, 'etcdserver: leader changed'),
  NotCapable: spec(status.UNAVAILABLE, 'etcdserver: not capable'),
  Stopped: spec(status.UNAVAILABLE, 'etcdserver: server stopped'),
  Timeout: spec(status.UNAVAILABLE, 'etcdserver: request timed out'),
  TimeoutDueToLeaderFail: spec(
    status.UNAVAILABLE,
    'etcdserver: request timed out, possibly due to previous leader failure',
  ),
  TimeoutDueToConnectionLost: spec(
    status.UNAVAILABLE,
    'etcdserver: request timed out, possibly due to connection lost',
  ),
  TimeoutWaitAppliedIndex: spec(
    status.UNAVAILABLE,
    'etcdserver: request timed out, waiting for the applied index took too long',
  ),
  Unhealthy: spec(status.UNAVAILABLE, 'etcdserver: unhealthy cluster'),
  Corrupt: spec(status.DATA_LOSS, 'etcdserver: corrupt cluster'),
  NotSupportedForLearner: spec(status.UNAVAILABLE, 'etcdserver: rpc not supported for learner'),
  BadLeaderTransferee: spec(status.FAILED_PRECONDITION, 'etcdserver: bad leader transferee'),
} as const satisfies Record<string, EtcdErrorSpec>;

export type EtcdErrorName = keyof typeof etcdErrors;

/**
 * A grpc-js ServiceError carrying etcd's code and text. Returned from a handler's callback
 * (or emitted on a stream) it reaches the client as exactly that status.
 */
export function etcdServiceError(name: EtcdErrorName, metadata: Metadata = new Metadata()): ServiceError {
  const { code, message } = etcdErrors[name];
  const error = new Error(message) as ServiceError;
  error.code = code;
  error.details = message;
  error.metadata = metadata;
  return error;
}

const namesByMessage: ReadonlyMap<string, EtcdErrorName> = new Map(
  (Object.keys(etcdErrors) as EtcdErrorName[]).map((name) => [etcdErrors[name].message, name]),
);

/** The etcd error a status text denotes (e.g. relayed from an upstream member), if any. */
export function etcdErrorNameOf(details: string): EtcdErrorName | undefined {
  return namesByMessage.get(details);
}
