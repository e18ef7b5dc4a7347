// Errors a client can see. Each carries etcd's exact message text; `grpcCode` is the
// gRPC status code etcd answers with, so the member can map without a lookup table.

/** gRPC status codes used below (values from the gRPC spec). */
export const GrpcCode = {
  InvalidArgument: 3,
  NotFound: 5,
  FailedPrecondition: 9,
  OutOfRange: 11,
} as const;

export abstract class MvccError extends Error {
  abstract readonly grpcCode: number;
  protected constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The requested revision is at or below the compacted revision. */
export class CompactedError extends MvccError {
  readonly grpcCode = GrpcCode.OutOfRange;
  constructor() {
    super('etcdserver: mvcc: required revision has been compacted');
  }
}

/** The requested revision is above the current revision. */
export class FutureRevisionError extends MvccError {
  readonly grpcCode = GrpcCode.OutOfRange;
  constructor() {
    super('etcdserver: mvcc: required revision is a future revision');
  }
}

/** Put with ignore_value or ignore_lease on a key that does not exist. */
export class KeyNotFoundError extends MvccError {
  readonly grpcCode = GrpcCode.InvalidArgument;
  constructor() {
    super('etcdserver: key not found');
  }
}

/** Put with ignore_value and a non-empty value. */
export class ValueProvidedError extends MvccError {
  readonly grpcCode = GrpcCode.InvalidArgument;
  constructor() {
    super('etcdserver: value is provided');
  }
}

/** Put with ignore_lease and a non-zero lease. */
export class LeaseProvidedError extends MvccError {
  readonly grpcCode = GrpcCode.InvalidArgument;
  constructor() {
    super('etcdserver: lease is provided');
  }
}

/** A transaction writes the same key twice (or puts a key its delete range covers). */
export class DuplicateKeyError extends MvccError {
  readonly grpcCode = GrpcCode.InvalidArgument;
  constructor() {
    super('etcdserver: duplicate key given in txn request');
  }
}

/** A request (or a compare) with an empty key. */
export class EmptyKeyError extends MvccError {
  readonly grpcCode = GrpcCode.InvalidArgument;
  constructor() {
    super('etcdserver: key is not provided');
  }
}

/** A transaction with more operations than the configured maximum. */
export class TooManyOpsError extends MvccError {
  readonly grpcCode = GrpcCode.InvalidArgument;
  constructor() {
    super('etcdserver: too many operations in txn request');
  }
}

/** Thrown by every operation after close() (not a client-visible etcd error). */
export class StoreClosedError extends Error {
  constructor() {
    super('mvcc: store is closed');
    this.name = 'StoreClosedError';
  }
}

/** A put names a lease the lessor does not know. */
export class LeaseNotFoundError extends MvccError {
  readonly grpcCode = GrpcCode.NotFound;
  constructor() {
    super('etcdserver: requested lease not found');
  }
}
