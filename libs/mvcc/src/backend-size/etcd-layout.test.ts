// etcd's key bucket layout: revision keys and the encoded length of mvccpb.KeyValue, checked
// against the protobuf encoder (the bbolt fixtures only cover lease 0 and small revisions).
import fc from 'fast-check';
import { mvccpb } from '@keel/proto';
import { keyValueBytes, revisionKey, tombstoneBytes } from './etcd-layout';

describe('keyValueBytes', () => {
  it('equals the length of the encoded mvccpb.KeyValue', () => {
    const counter = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 200 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300 }),
        counter,
        counter,
        counter,
        fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 3_000_000 })),
        fc.oneof(fc.constant(0n), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
        (keyBytes, createRevision, modRevision, version, valueBytes, lease) => {
          const encoded = mvccpb.KeyValue.encode({
            key: Buffer.alloc(keyBytes, 1),
            createRevision: BigInt(createRevision),
            modRevision: BigInt(modRevision),
            version: BigInt(version),
            value: Buffer.alloc(valueBytes, 2),
            lease,
          }).finish();
          expect(keyValueBytes({ keyBytes, createRevision, modRevision, version, valueBytes, lease })).toBe(encoded.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a tombstone holds only the key', () => {
    expect(tombstoneBytes(3)).toBe(5);
  });
});

describe('revisionKey', () => {
  it("is etcd's 17-byte big-endian main '_' sub, plus 't' for a tombstone", () => {
    const key = revisionKey(0x0102030405, 7, false);
    expect(Buffer.from(key, 'latin1').toString('hex')).toBe('0000000102030405' + '5f' + '0000000000000007');
    expect(revisionKey(9, 0, true)).toHaveLength(18);
    expect(revisionKey(9, 0, true).endsWith('t')).toBe(true);
  });

  it('sorts as bytes do', () => {
    const revisions = [1, 255, 256, 65535, 65536, 2 ** 40, 2 ** 53 - 1];
    const keys = revisions.map((main) => revisionKey(main, 0, false));
    expect([...keys].sort()).toEqual(keys);
  });
});
