import fc from 'fast-check';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { varintBytes } from '../src/proto-size';

/** The length the real protobuf encoder gives the value as a uint64 (or int64 when negative). */
function encodedLength(value: number | bigint): number {
  const writer = new BinaryWriter();
  if (typeof value === 'bigint' ? value < 0n : value < 0) writer.int64(value);
  else writer.uint64(value);
  return writer.finish().length;
}

describe('varintBytes', () => {
  it('is 1 byte per started 7 bits, at each boundary', () => {
    const boundaries = [0, 127, 128, 16383, 16384, 2 ** 21 - 1, 2 ** 21, 2 ** 49 - 1, 2 ** 49, Number.MAX_SAFE_INTEGER];
    expect(boundaries.map((v) => varintBytes(v))).toEqual([1, 1, 2, 2, 3, 3, 4, 7, 8, 8]);
    expect(boundaries.map((v) => varintBytes(BigInt(v)))).toEqual([1, 1, 2, 2, 3, 3, 4, 7, 8, 8]);
  });

  it('matches the encoder for numbers and bigints across the whole 64-bit range', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: -1000, max: 1000 })), (v) => {
        expect(varintBytes(v)).toBe(encodedLength(v));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }), (v) => {
        expect(varintBytes(v)).toBe(encodedLength(v));
      }),
      { numRuns: 500 },
    );
  });

  it('takes ten bytes for negative int64s and for integers at or above 2^63', () => {
    expect([-1, -(2 ** 53), 2 ** 63].map((v) => varintBytes(v))).toEqual([10, 10, 10]);
    expect([-1n, 2n ** 63n, 2n ** 64n - 1n].map((v) => varintBytes(v))).toEqual([10, 10, 10]);
  });

  it('refuses a fractional number', () => {
    expect(() => varintBytes(1.5)).toThrow(RangeError);
    expect(() => varintBytes(Number.NaN)).toThrow(RangeError);
  });
});
