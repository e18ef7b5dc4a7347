/**
 * Hand-written protobuf encoding of the few etcd requests the benchmark sends, and a field
 * scanner for the few response fields it reads. Field numbers are etcd's v3 API
 * (etcdserverpb); libs/proto holds the full schema — this file exists so the load
 * generator spends as little CPU per request as possible.
 */
const wireVarint = 0;
const wireBytes = 2;

class Writer {
  private readonly parts: number[] = [];
  private readonly chunks: Uint8Array[] = [];
  private size = 0;

  private flushBytes(): void {
    if (this.parts.length === 0) return;
    this.chunks.push(Uint8Array.from(this.parts));
    this.size += this.parts.length;
    this.parts.length = 0;
  }

  varint(value: bigint | number): this {
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.parts.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.parts.push(Number(v));
    return this;
  }

  tag(field: number, wireType: number): this {
    return this.varint((field << 3) | wireType);
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, wireBytes).varint(value.length);
    this.flushBytes();
    this.chunks.push(value);
    this.size += value.length;
    return this;
  }

  uint(field: number, value: bigint | number): this {
    if (value === 0 || value === 0n) return this;
    return this.tag(field, wireVarint).varint(value);
  }

  bool(field: number, value: boolean): this {
    return value ? this.tag(field, wireVarint).varint(1) : this;
  }

  finish(): Uint8Array {
    this.flushBytes();
    const out = new Uint8Array(this.size);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

export function encodePut(key: Uint8Array, value: Uint8Array, lease = 0n): Uint8Array {
  return new Writer().bytes(1, key).bytes(2, value).uint(3, lease).finish();
}

export function encodeRange(key: Uint8Array, rangeEnd: Uint8Array | undefined, serializable: boolean): Uint8Array {
  const w = new Writer().bytes(1, key);
  if (rangeEnd && rangeEnd.length > 0) w.bytes(2, rangeEnd);
  return w.bool(7, serializable).finish();
}

/** TxnRequest with one success op: a put. */
export function encodeTxnPut(key: Uint8Array, value: Uint8Array): Uint8Array {
  const requestOp = new Writer().bytes(2, encodePut(key, value)).finish();
  return new Writer().bytes(2, requestOp).finish();
}

export function encodeWatchCreate(key: Uint8Array, rangeEnd?: Uint8Array, startRevision = 0): Uint8Array {
  const create = new Writer().bytes(1, key);
  if (rangeEnd && rangeEnd.length > 0) create.bytes(2, rangeEnd);
  create.uint(3, startRevision);
  return new Writer().bytes(1, create.finish()).finish();
}

export function encodeLeaseGrant(ttlSeconds: number): Uint8Array {
  return new Writer().uint(1, ttlSeconds).finish();
}

export function encodeLeaseKeepAlive(id: bigint): Uint8Array {
  return new Writer().uint(1, id).finish();
}

/** Calls visit(field, wireType, valueOrBytes) for each top-level field of a message. */
export function scanFields(
  message: Uint8Array,
  visit: (field: number, value: bigint | Uint8Array) => void,
): void {
  let offset = 0;
  const readVarint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = message[offset++];
      if (byte === undefined) throw new Error('truncated varint');
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (offset < message.length) {
    const key = Number(readVarint());
    const field = key >>> 3;
    const wireType = key & 7;
    if (wireType === wireVarint) visit(field, readVarint());
    else if (wireType === wireBytes) {
      const length = Number(readVarint());
      visit(field, message.subarray(offset, offset + length));
      offset += length;
    } else if (wireType === 1) offset += 8;
    else if (wireType === 5) offset += 4;
    else throw new Error(`unsupported wire type ${wireType}`);
  }
}

/** WatchResponse: watch_id (2), created (3), canceled (4), number of events (11). */
export function readWatchResponse(message: Uint8Array): {
  watchId: bigint;
  created: boolean;
  canceled: boolean;
  events: number;
} {
  const result = { watchId: 0n, created: false, canceled: false, events: 0 };
  scanFields(message, (field, value) => {
    if (field === 2 && typeof value === 'bigint') result.watchId = value;
    else if (field === 3) result.created = value === 1n;
    else if (field === 4) result.canceled = value === 1n;
    else if (field === 11) result.events++;
  });
  return result;
}

/** LeaseGrantResponse.ID (field 2). */
export function readLeaseGrantId(message: Uint8Array): bigint {
  let id = 0n;
  scanFields(message, (field, value) => {
    if (field === 2 && typeof value === 'bigint') id = BigInt.asIntN(64, value);
  });
  return id;
}
