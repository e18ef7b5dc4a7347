// Client-visible errors: etcd's gRPC status code and exact message (libs/proto's table),
// thrown as the rpc server's GrpcError.
import { etcdErrors, type EtcdErrorName } from '@keel/proto';
import { MvccError } from '@keel/mvcc';
import { GrpcError, type GrpcStatusCode } from '../rpc/status';

export type { EtcdErrorName };

export function etcdError(name: EtcdErrorName): GrpcError {
  const { code, message } = etcdErrors[name];
  return new GrpcError(code as GrpcStatusCode, message);
}

/** Maps store errors to their gRPC form; anything else passes through unchanged. */
export function toClientError(error: unknown): unknown {
  if (error instanceof MvccError) return new GrpcError(error.grpcCode as GrpcStatusCode, error.message);
  return error;
}
