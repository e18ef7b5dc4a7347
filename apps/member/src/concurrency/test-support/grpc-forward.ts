/**
 * Test support: handler objects that forward every call of a service to another gRPC server
 * (real etcd). Lets the e2e tests run Keel's Election/Lock services and JSON gateway on top of
 * etcd's own KV, Lease and Watch, so real clients check this code before the member wires it.
 */
import * as grpc from '@grpc/grpc-js';
import type { AnyMethodDefinition, ServiceDefinition, ServiceHandlers, StreamCall } from '../../rpc/types';
import { GrpcError, type GrpcStatusCode } from '../../rpc/status';

function toGrpcError(error: grpc.ServiceError): GrpcError {
  return new GrpcError(error.code as GrpcStatusCode, error.details);
}

function forwardMethod(client: grpc.Client, method: AnyMethodDefinition): unknown {
  const { path, requestSerialize, responseDeserialize } = method;
  if (!method.requestStream && !method.responseStream) {
    return (request: unknown, ctx: { signal: AbortSignal }) =>
      new Promise((resolve, reject) => {
        const call = client.makeUnaryRequest(path, requestSerialize, responseDeserialize, request, (error, response) =>
          error ? reject(toGrpcError(error)) : resolve(response),
        );
        ctx.signal.addEventListener('abort', () => call.cancel(), { once: true });
      });
  }
  return (call: StreamCall<unknown, unknown>) => {
    const upstream = method.requestStream
      ? client.makeBidiStreamRequest(path, requestSerialize, responseDeserialize)
      : undefined;
    const pipeFrom = (source: grpc.ClientReadableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>) => {
      source.on('data', (response: unknown) => call.write(response));
      source.on('error', (error: grpc.ServiceError) => call.fail(toGrpcError(error)));
      source.on('end', () => call.end());
      call.signal.addEventListener('abort', () => source.cancel(), { once: true });
    };
    if (upstream !== undefined) {
      pipeFrom(upstream);
      call.onMessage((request) => upstream.write(request));
      call.onEnd(() => upstream.end());
      return;
    }
    call.onMessage((request) => pipeFrom(client.makeServerStreamRequest(path, requestSerialize, responseDeserialize, request)));
  };
}

export function forwardingHandlers<S extends ServiceDefinition>(service: S, client: grpc.Client): ServiceHandlers<S> {
  const handlers: Record<string, unknown> = {};
  for (const [key, method] of Object.entries(service)) handlers[key] = forwardMethod(client, method);
  return handlers as ServiceHandlers<S>;
}

export function connect(hostPort: string): grpc.Client {
  return new grpc.Client(hostPort, grpc.credentials.createInsecure());
}
