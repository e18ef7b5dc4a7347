import { clusterId, formatId, fromInt64, memberId, parseId, toInt64 } from './ids';

describe('member and cluster IDs (values taken from real etcd 3.4.23 runs)', () => {
  test('the default single-member cluster', () => {
    const id = memberId({ peerUrls: ['http://localhost:2380'], clusterToken: 'etcd-cluster' });
    expect(formatId(id)).toBe('8e9e05c52164694d');
    expect(formatId(clusterId([id]))).toBe('cdf818194e3a8c32');
  });

  test('a three-member cluster with a custom token and a two-URL member', () => {
    const token = 'tok-xyz';
    const infra1 = memberId({ peerUrls: ['http://127.0.0.1:42380'], clusterToken: token });
    // URLs are sorted before hashing, so the order given does not matter.
    const infra2 = memberId({ peerUrls: ['http://127.0.0.1:42480', 'http://10.0.0.2:2380'], clusterToken: token });
    const infra3 = memberId({ peerUrls: ['http://127.0.0.1:42580'], clusterToken: token });
    expect([infra1, infra2, infra3].map(formatId)).toEqual(['9d0f81615de29f1c', 'a5f8e3b8d9ec00d9', 'f26f04f34ae48c8d']);
    // etcd prints without leading zeros: this cluster ID has 15 hex digits.
    expect(formatId(clusterId([infra3, infra1, infra2]))).toBe('68913471bf02c12');
  });

  test('a member added at run time gets a time-dependent ID', () => {
    const base = { peerUrls: ['http://127.0.0.1:42680'], clusterToken: 'tok-xyz' };
    const t1 = memberId({ ...base, addedAtUnixSeconds: 1_700_000_000 });
    const t2 = memberId({ ...base, addedAtUnixSeconds: 1_700_000_001 });
    expect(t1).not.toBe(t2);
    expect(t1).not.toBe(memberId(base));
    expect(memberId({ ...base, addedAtUnixSeconds: 1_700_000_000 })).toBe(t1);
  });

  test('hex parsing and int64 views keep the full 64 bits', () => {
    expect(parseId('8e9e05c52164694d')).toBe(0x8e9e05c52164694dn);
    expect(() => parseId('xyz')).toThrow('invalid member ID');
    expect(() => parseId('1'.repeat(17))).toThrow('invalid member ID');
    const id = 0xf26f04f34ae48c8dn;
    expect(toInt64(id)).toBeLessThan(0n);
    expect(fromInt64(toInt64(id))).toBe(id);
    expect(() => formatId(-1n)).toThrow('outside uint64');
  });
});
