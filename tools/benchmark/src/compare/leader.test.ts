import { leaderFirstOrder, parseLeaderView } from './leader';

/** Protobuf varint bytes of n. */
function varint(n: bigint): number[] {
  const out: number[] = [];
  do {
    let byte = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) byte |= 0x80;
    out.push(byte);
  } while (n > 0n);
  return out;
}

/** A StatusResponse: header { cluster_id, member_id, revision }, version, dbSize, leader. */
function statusResponse(memberId: bigint, leader: bigint): Uint8Array {
  const header = [0x08, ...varint(77n), 0x10, ...varint(memberId), 0x18, ...varint(9n)];
  const version = [...Buffer.from('3.4.30')];
  return Uint8Array.from([
    0x0a, header.length, ...header,
    0x12, version.length, ...version,
    0x18, ...varint(20480n),
    0x20, ...varint(leader),
  ]);
}

describe('leader-first endpoint order', () => {
  const big = 0x8e9e05c52164694dn; // etcd's ids use all 64 bits

  it('reads the answering member and the leader from a StatusResponse', () => {
    expect(parseLeaderView(statusResponse(big, big))).toEqual({ memberId: big, leader: big });
    expect(parseLeaderView(statusResponse(5n, big))).toEqual({ memberId: 5n, leader: big });
  });

  it('moves the leader to the front and keeps the others in order', () => {
    const endpoints = ['a:1', 'b:2', 'c:3'];
    const views = [{ memberId: 1n, leader: 3n }, undefined, { memberId: 3n, leader: 3n }];
    expect(leaderFirstOrder(endpoints, views)).toEqual(['c:3', 'a:1', 'b:2']);
  });

  it('finds no order while nobody leads or the leader has not answered', () => {
    const endpoints = ['a:1', 'b:2'];
    expect(leaderFirstOrder(endpoints, [{ memberId: 1n, leader: 0n }, { memberId: 2n, leader: 0n }])).toBeUndefined();
    expect(leaderFirstOrder(endpoints, [{ memberId: 1n, leader: 2n }, undefined])).toBeUndefined();
  });
});
