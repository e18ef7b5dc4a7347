/**
 * The standard gRPC health service (grpc.health.v1.Health), which etcd 3.4 registers with the
 * empty service name reporting SERVING. Probes such as Kubernetes' gRPC liveness checks and
 * grpc_health_probe use it. The two tiny messages are encoded by hand to keep libs/proto free
 * of a non-etcd package.
 */
import { GrpcError, GrpcStatus } from './status';
import type { ServiceHandlers } from './types';

export type ServingStatus = 'SERVING' | 'NOT_SERVING';

const STATUS_CODE: Record<ServingStatus | 'SERVICE_UNKNOWN', number> = { SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 };

export interface HealthCheckRequest {
  service: string;
}
export interface HealthCheckResponse {
  status: number;
}

/** HealthCheckRequest: field 1 (string service). Unknown fields are skipped. */
export function decodeHealthCheckRequest(bytes: Buffer): HealthCheckRequest {
  let offset = 0;
  let service = '';
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (offset >= bytes.length) throw new Error('truncated varint');
      const byte = bytes[offset++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new Error('varint too long');
    }
  };
  while (offset < bytes.length) {
    const key = varint();
    const [field, wire] = [Math.floor(key / 8), key & 7];
    if (wire === 0) varint();
    else if (wire === 2) {
      const length = varint();
      if (offset + length > bytes.length) throw new Error('truncated field');
      if (field === 1) service = bytes.subarray(offset, offset + length).toString('utf8');
      offset += length;
    } else if (wire === 1) offset += 8;
    else if (wire === 5) offset += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return { service };
}

export function encodeHealthCheckRequest(request: HealthCheckRequest): Buffer {
  const service = Buffer.from(request.service, 'utf8');
  if (service.length === 0) return Buffer.alloc(0);
  if (service.length > 127) throw new Error('service name too long for this encoder');
  return Buffer.concat([Buffer.from([0x0a, service.length]), service]);
}

/** HealthCheckResponse: field 1 (enum status), always a one-byte varint here. */
export function encodeHealthCheckResponse(response: HealthCheckResponse): Buffer {
  return response.status === 0 ? Buffer.alloc(0) : Buffer.from([0x08, response.status]);
}

export function decodeHealthCheckResponse(bytes: Buffer): HealthCheckResponse {
  return { status: bytes.length >= 2 && bytes[0] === 0x08 ? bytes[1]! : 0 };
}

export const HealthService = {
  check: {
    path: '/grpc.health.v1.Health/Check',
    requestStream: false as const,
    responseStream: false as const,
    requestSerialize: encodeHealthCheckRequest,
    requestDeserialize: decodeHealthCheckRequest,
    responseSerialize: encodeHealthCheckResponse,
    responseDeserialize: decodeHealthCheckResponse,
  },
  watch: {
    path: '/grpc.health.v1.Health/Watch',
    requestStream: false as const,
    responseStream: true as const,
    requestSerialize: encodeHealthCheckRequest,
    requestDeserialize: decodeHealthCheckRequest,
    responseSerialize: encodeHealthCheckResponse,
    responseDeserialize: decodeHealthCheckResponse,
  },
} as const;

/**
 * Handlers answering from `statusOf(service)`: undefined means the service is unknown
 * (Check → NOT_FOUND "unknown service", Watch → SERVICE_UNKNOWN). Watch re-evaluates every
 * `watchIntervalMs` and sends only changes, until the client cancels.
 */
export function healthHandlers(
  statusOf: (service: string) => ServingStatus | undefined,
  watchIntervalMs = 1000,
): ServiceHandlers<typeof HealthService> {
  return {
    check: (request) => {
      const status = statusOf(request.service);
      if (status === undefined) throw new GrpcError(GrpcStatus.NOT_FOUND, 'unknown service');
      return { status: STATUS_CODE[status] };
    },
    watch: (call) => {
      call.onMessage((request) => {
        let last = -1;
        const report = (): void => {
          const code = STATUS_CODE[statusOf(request.service) ?? 'SERVICE_UNKNOWN'];
          if (code !== last && !call.ended) call.write({ status: code });
          last = code;
        };
        report();
        const timer = setInterval(report, watchIntervalMs);
        call.signal.addEventListener('abort', () => clearInterval(timer));
      });
    },
  };
}
