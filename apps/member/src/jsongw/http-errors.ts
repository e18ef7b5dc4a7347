/**
 * How etcd 3.4's grpc-gateway reports failures over HTTP/1.1: the gRPC code mapped to an HTTP
 * status, and a JSON body — `{"error","message","code"}` for unary calls, and for streams a
 * final chunk `{"error":{"grpc_code","http_code","message","http_status"}}`.
 */
import { STATUS_CODES } from 'node:http';
import { GrpcStatus, type GrpcError } from '../rpc/status';

const HTTP_BY_GRPC: Record<number, number> = {
  [GrpcStatus.OK]: 200,
  [GrpcStatus.CANCELLED]: 408,
  [GrpcStatus.UNKNOWN]: 500,
  [GrpcStatus.INVALID_ARGUMENT]: 400,
  [GrpcStatus.DEADLINE_EXCEEDED]: 504,
  [GrpcStatus.NOT_FOUND]: 404,
  [GrpcStatus.ALREADY_EXISTS]: 409,
  [GrpcStatus.PERMISSION_DENIED]: 403,
  [GrpcStatus.UNAUTHENTICATED]: 401,
  [GrpcStatus.RESOURCE_EXHAUSTED]: 429,
  [GrpcStatus.FAILED_PRECONDITION]: 412,
  [GrpcStatus.ABORTED]: 409,
  [GrpcStatus.OUT_OF_RANGE]: 400,
  [GrpcStatus.UNIMPLEMENTED]: 501,
  [GrpcStatus.INTERNAL]: 500,
  [GrpcStatus.UNAVAILABLE]: 503,
  [GrpcStatus.DATA_LOSS]: 500,
};

export function httpStatusOf(code: number): number {
  return HTTP_BY_GRPC[code] ?? 500;
}

/** Body of a failed unary call. */
export function unaryErrorBody(error: GrpcError): string {
  return JSON.stringify({ error: error.message, message: error.message, code: error.code });
}

/** Last chunk of a failed stream. */
export function streamErrorChunk(error: GrpcError): string {
  const httpCode = httpStatusOf(error.code);
  return JSON.stringify({
    error: {
      grpc_code: error.code,
      http_code: httpCode,
      message: error.message,
      http_status: STATUS_CODES[httpCode] ?? '',
    },
  });
}
