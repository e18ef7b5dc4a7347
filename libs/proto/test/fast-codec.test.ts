import { encodeToBuffer, etcdserverpb, internal, withFastSerializers } from '../src/index';

const put = etcdserverpb.PutRequest.fromPartial({ key: Buffer.from('k'), value: Buffer.alloc(300, 1), lease: 5n });
const plain = (message: etcdserverpb.PutRequest) => Buffer.from(etcdserverpb.PutRequest.encode(message).finish());

describe('encodeToBuffer', () => {
  it('produces the same bytes as a fresh writer, every time', () => {
    const other = etcdserverpb.PutRequest.fromPartial({ key: Buffer.from('other') });
    const first = encodeToBuffer(etcdserverpb.PutRequest, put);
    const second = encodeToBuffer(etcdserverpb.PutRequest, other);
    expect(first).toEqual(plain(put));
    expect(second).toEqual(plain(other));
    // The first result is not overwritten by the second encode.
    expect(etcdserverpb.PutRequest.decode(first)).toEqual(put);
  });

  it('recovers after an encode throws midway through a nested message', () => {
    const bad = internal.InternalRaftRequest.fromPartial({
      header: { id: 1n },
      request: { $case: 'put', value: etcdserverpb.PutRequest.fromPartial({ key: Buffer.from('k'), lease: 1n << 64n }) },
    });
    expect(() => encodeToBuffer(internal.InternalRaftRequest, bad)).toThrow(/too large/);
    expect(encodeToBuffer(etcdserverpb.PutRequest, put)).toEqual(plain(put));
  });

  it('handles messages larger than the retained buffer bound', () => {
    const big = etcdserverpb.PutRequest.fromPartial({ key: Buffer.from('big'), value: Buffer.alloc(3 << 20, 7) });
    // Buffer.equals: jest's deep equality walks 3 MiB byte by byte far too slowly.
    expect(encodeToBuffer(etcdserverpb.PutRequest, big).equals(plain(big))).toBe(true);
    expect(encodeToBuffer(etcdserverpb.PutRequest, put)).toEqual(plain(put));
  });
});

describe('withFastSerializers', () => {
  const fast = withFastSerializers(etcdserverpb.KVService, etcdserverpb.KVDefinition);

  it('keeps every method, path and deserializer of the generated definition', () => {
    expect(Object.keys(fast)).toEqual(Object.keys(etcdserverpb.KVService));
    expect(fast.txn.path).toBe('/etcdserverpb.KV/Txn');
    expect(fast.range.requestDeserialize).toBe(etcdserverpb.KVService.range.requestDeserialize);
  });

  it('serializes requests and responses to the same bytes', () => {
    expect(fast.put.requestSerialize(put)).toEqual(etcdserverpb.KVService.put.requestSerialize(put));
    const response = etcdserverpb.RangeResponse.fromPartial({ header: { revision: 9n }, kvs: [{ key: Buffer.from('a') }], count: 1n });
    expect(fast.range.responseSerialize(response)).toEqual(etcdserverpb.KVService.range.responseSerialize(response));
  });
});
