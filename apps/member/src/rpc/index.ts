export { GrpcServer, GRPC_OVERHEAD_BYTES, FRONT_END_ENV, defaultFrontEnd, type GrpcServerOptions, type GrpcFrontEnd } from './server';
export { listenShared, bindAddress, type SharedListener, type SharedListenerOptions, type Http1Handler } from './listener';
export { GrpcError, GrpcStatus, toGrpcError, encodeGrpcMessage, decodeGrpcMessage, type GrpcStatusCode } from './status';
export { Deframer, encodeFrame, FRAME_HEADER_BYTES } from './framing';
export { parseGrpcTimeout } from './call';
export { flushQueuedResponses } from './h2/writer';
export { serverTlsOptions, clientTlsOptions, clientCertificateCheck, type ClientCertificateCheck } from './tls';
export { messageEncodingOf, type MessageEncoding } from './framing';
export type {
  MethodDefinition,
  AnyMethodDefinition,
  ServiceDefinition,
  ServiceHandlers,
  HandlerFor,
  UnaryHandler,
  StreamHandler,
  StreamCall,
  CallContext,
  CallOutcome,
  Metadata,
} from './types';
export { HealthService, healthHandlers, type ServingStatus } from './grpc-health';
