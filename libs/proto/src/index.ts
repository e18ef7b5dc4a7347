/**
 * @keel/proto — the etcd v3 wire protocol and Keel's internal messages.
 *
 * Each protobuf package is one namespace. A message name is both a TypeScript type and a
 * codec object with encode/decode/fromJSON/toJSON/create/fromPartial:
 *
 *   import { etcdserverpb } from '@keel/proto';
 *   const bytes = etcdserverpb.PutRequest.encode(req).finish();
 *   const req2: etcdserverpb.PutRequest = etcdserverpb.PutRequest.decode(bytes);
 *
 * Conventions of the generated code: 64-bit integers are bigint, bytes are Buffer, nested
 * messages are optional properties, oneofs are `{ $case, value }` unions, and every
 * service has `<Name>Service` (a grpc-js ServiceDefinition for server.addService),
 * `<Name>Server` (the handler interface) and `<Name>Client` (a grpc-js client class).
 */
export * as mvccpb from './generated/mvccpb/kv';
export * as authpb from './generated/authpb/auth';
export * as etcdserverpb from './generated/etcdserverpb/rpc';
export * as v3electionpb from './generated/v3electionpb/v3election';
export * as v3lockpb from './generated/v3lockpb/v3lock';
export * as internal from './internal';
export { etcdErrors, etcdServiceError, etcdErrorNameOf, type EtcdErrorName, type EtcdErrorSpec } from './errors';
export { encodeToBuffer, withFastSerializers, type Encoder } from './fast-codec';
