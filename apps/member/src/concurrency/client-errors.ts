/**
 * etcd serves Election and Lock through an in-process clientv3, which turns every known etcd
 * error into a plain Go error; gRPC then reports it with code UNKNOWN and the same text
 * (e.g. Lock with a missing lease: UNKNOWN "etcdserver: requested lease not found", where a
 * Put would get NOT_FOUND). Clients of these two services see that, so Keel does the same.
 */
import { etcdErrors } from '@keel/proto';
import { GrpcError, GrpcStatus } from '../rpc/status';

const ETCD_MESSAGES = new Set<string>(Object.values(etcdErrors).map((spec) => spec.message));

export function asServiceError(error: unknown): unknown {
  if (error instanceof GrpcError && error.code !== GrpcStatus.UNKNOWN && ETCD_MESSAGES.has(error.message)) {
    return new GrpcError(GrpcStatus.UNKNOWN, error.message);
  }
  return error;
}

/** Wraps a unary handler so etcd errors from the backend leave it as UNKNOWN. */
export function withServiceErrors<Req, Ctx, Res>(handler: (request: Req, ctx: Ctx) => Promise<Res>) {
  return async (request: Req, ctx: Ctx): Promise<Res> => {
    try {
      return await handler(request, ctx);
    } catch (error) {
      throw asServiceError(error);
    }
  };
}
