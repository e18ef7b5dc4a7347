import { encodePut, encodeRange, encodeTxnPut, encodeWatchCreate, readLeaseGrantId, readWatchResponse, scanFields } from './wire';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('benchmark wire encoding', () => {
  it('encodes PutRequest with etcd field numbers', () => {
    // field 1 (key) len 3 "foo", field 2 (value) len 3 "bar", field 3 (lease) varint 300
    expect(Buffer.from(encodePut(bytes('foo'), bytes('bar'), 300n)).toString('hex')).toBe('0a03666f6f12036261721' + '8ac02');
  });

  it('encodes a serializable RangeRequest with range_end', () => {
    expect(Buffer.from(encodeRange(bytes('a'), bytes('b'), true)).toString('hex')).toBe('0a0161120162' + '3801');
  });

  it('nests a put inside a TxnRequest success op', () => {
    const fields: number[] = [];
    scanFields(encodeTxnPut(bytes('k'), bytes('v')), (f, v) => {
      fields.push(f);
      scanFields(v as Uint8Array, (inner) => fields.push(inner));
    });
    expect(fields).toEqual([2, 2]);
  });

  it('reads a WatchResponse and counts events', () => {
    const created = encodeWatchCreate(bytes('k'), undefined, 5);
    expect(Buffer.from(created).toString('hex')).toBe('0a05' + '0a016b' + '1805');
    // watch_id=7, created=true, two events (field 11, empty messages)
    const response = Uint8Array.from([0x10, 7, 0x18, 1, 0x5a, 0, 0x5a, 0]);
    expect(readWatchResponse(response)).toEqual({ watchId: 7n, created: true, canceled: false, events: 2 });
  });

  it('reads a negative-looking 64-bit lease id as int64', () => {
    // field 2 varint 2^64-1 → -1 as int64
    const response = Uint8Array.from([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(readLeaseGrantId(response)).toBe(-1n);
  });
});
