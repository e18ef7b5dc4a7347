import { decodeU64, encodeU64 } from '../src/keyspaces';

describe('meta u64 values', () => {
  it('are 8 big-endian bytes, the same as a BigInt write', () => {
    for (const value of [0, 1, 255, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 123_456_789_012, Number.MAX_SAFE_INTEGER]) {
      const expected = Buffer.alloc(8);
      expected.writeBigUInt64BE(BigInt(value));
      expect(encodeU64(value)).toEqual(expected);
      expect(decodeU64(expected)).toBe(value);
    }
  });

  it('decode from a view inside a larger buffer', () => {
    const whole = Buffer.concat([Buffer.from([9, 9, 9]), encodeU64(2 ** 40 + 7), Buffer.from([9])]);
    expect(decodeU64(whole.subarray(3, 11))).toBe(2 ** 40 + 7);
  });

  it('refuse what a number cannot hold exactly', () => {
    expect(() => encodeU64(-1)).toThrow(/out of range/);
    expect(() => encodeU64(1.5)).toThrow(/out of range/);
    expect(() => encodeU64(2 ** 53)).toThrow(/out of range/);
    const tooBig = Buffer.alloc(8);
    tooBig.writeBigUInt64BE(2n ** 53n);
    expect(() => decodeU64(tooBig)).toThrow(/above 2\^53/);
    expect(() => decodeU64(Buffer.alloc(7))).toThrow(/8 bytes/);
  });
});
