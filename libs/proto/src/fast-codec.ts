import { BinaryWriter } from '@bufbuild/protobuf/wire';

/** The part of a generated message codec that encoding needs. */
export interface Encoder<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
}

/**
 * Measured (bench/codec.ts): a fresh BinaryWriter per message costs more than the encoding
 * itself, because its growing buffer is reallocated several times. One writer is reused
 * instead; finish() hands out a copy of the bytes and rewinds the writer, so callers own
 * their result. Encoding is synchronous, so nothing else can use the writer meanwhile.
 */
let sharedWriter = new BinaryWriter();

/** A writer that grew past this keeps its buffer; drop it rather than pin the memory. */
const retainedBufferBytesMax = 1 << 20;

/** Encodes to a Buffer (a view of the finished bytes, not another copy). */
export function encodeToBuffer<T>(codec: Encoder<T>, message: T): Buffer {
  let bytes: Uint8Array;
  try {
    bytes = codec.encode(message, sharedWriter).finish();
  } catch (error) {
    // A throw mid-message leaves the writer positioned inside it.
    sharedWriter = new BinaryWriter();
    throw error;
  }
  if (bytes.byteLength > retainedBufferBytesMax) sharedWriter = new BinaryWriter();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

interface GrpcMethodLike {
  requestSerialize(value: never): Buffer;
  responseSerialize(value: never): Buffer;
}

/** The generic service description ts-proto emits next to each grpc-js definition. */
interface GenericServiceLike<K extends string> {
  methods: Record<K, { requestType: Encoder<never>; responseType: Encoder<never> }>;
}

/**
 * A copy of a generated grpc-js service definition (e.g. etcdserverpb.KVService) whose
 * serializers encode through the shared writer and skip the extra Buffer copy; the
 * matching generic definition (etcdserverpb.KVDefinition) supplies the codecs.
 * Use it wherever the plain definition would go: server.addService, client constructors.
 */
export function withFastSerializers<S extends Record<string, GrpcMethodLike>>(
  service: S,
  generic: GenericServiceLike<keyof S & string>,
): S {
  const fast: Record<string, GrpcMethodLike> = {};
  for (const key of Object.keys(service) as (keyof S & string)[]) {
    const { requestType, responseType } = generic.methods[key];
    fast[key] = {
      ...service[key],
      requestSerialize: (value: never) => encodeToBuffer(requestType, value),
      responseSerialize: (value: never) => encodeToBuffer(responseType, value),
    };
  }
  return fast as S;
}
