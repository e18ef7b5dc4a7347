/**
 * A tiny JSON-encoded service in the ts-proto/grpc-js definition shape, for tests and the
 * throughput measurement (not used by the member itself).
 */
import type { MethodDefinition } from './types';

const json = <T>(): Pick<MethodDefinition<T, T>, 'requestSerialize' | 'requestDeserialize' | 'responseSerialize' | 'responseDeserialize'> => ({
  requestSerialize: (value: T) => Buffer.from(JSON.stringify(value)),
  requestDeserialize: (bytes: Buffer) => JSON.parse(bytes.toString('utf8')) as T,
  responseSerialize: (value: T) => Buffer.from(JSON.stringify(value)),
  responseDeserialize: (bytes: Buffer) => JSON.parse(bytes.toString('utf8')) as T,
});

export interface TestMessage {
  text?: string;
  n?: number;
  code?: number;
}

/** Raw bytes in and out, for large-message tests. */
const raw = {
  requestSerialize: (value: Buffer) => value,
  requestDeserialize: (bytes: Buffer) => bytes,
  responseSerialize: (value: Buffer) => value,
  responseDeserialize: (bytes: Buffer) => bytes,
};

export const TestService = {
  echo: { path: '/keel.test.Test/Echo', requestStream: false as const, responseStream: false as const, ...json<TestMessage>() },
  fail: { path: '/keel.test.Test/Fail', requestStream: false as const, responseStream: false as const, ...json<TestMessage>() },
  hang: { path: '/keel.test.Test/Hang', requestStream: false as const, responseStream: false as const, ...json<TestMessage>() },
  blob: { path: '/keel.test.Test/Blob', requestStream: false as const, responseStream: false as const, ...raw },
  count: { path: '/keel.test.Test/Count', requestStream: false as const, responseStream: true as const, ...json<TestMessage>() },
  chat: { path: '/keel.test.Test/Chat', requestStream: true as const, responseStream: true as const, ...json<TestMessage>() },
  lateChat: { path: '/keel.test.Test/LateChat', requestStream: true as const, responseStream: true as const, ...json<TestMessage>() },
  missing: { path: '/keel.test.Test/Missing', requestStream: false as const, responseStream: false as const, ...json<TestMessage>() },
} as const;
