import { Lessor } from './lessor';

describe('Lessor', () => {
  let now = 1_000_000;
  const make = () => new Lessor({ minTtlSeconds: 2, now: () => now });

  it('raises short TTLs to the minimum and tracks attached keys', () => {
    const lessor = make();
    expect(lessor.grant(1n, 1).ttlSeconds).toBe(2);
    lessor.attach(1n, Buffer.from('a'));
    lessor.attach(1n, Buffer.from('b'));
    lessor.detach(1n, Buffer.from('a'));
    expect(lessor.revoke(1n)).toEqual([Buffer.from('b').toString('hex')]);
    expect(lessor.has(1n)).toBe(false);
    expect(lessor.revoke(1n)).toBeUndefined();
  });

  it('runs clocks only while primary and restarts them on promotion', () => {
    const lessor = make();
    lessor.grant(7n, 10);
    now += 60_000;
    expect(lessor.expired(10)).toEqual([]); // a follower never expires leases
    lessor.promote(0);
    expect(lessor.expired(10)).toEqual([]);
    now += 9_000;
    expect(lessor.remainingSeconds(lessor.get(7n)!)).toBe(1);
    expect(lessor.renew(7n)).toBe(10);
    now += 10_001;
    expect(lessor.expired(10)).toEqual([7n]);
    expect(lessor.renew(7n)).toBeUndefined();
    lessor.demote();
    expect(lessor.expired(10)).toEqual([]);
  });

  it('uses the checkpointed remaining TTL after a leader change', () => {
    const lessor = make();
    lessor.grant(3n, 100);
    lessor.checkpoint(3n, 5);
    lessor.promote(0);
    now += 5_001;
    expect(lessor.expired(10)).toEqual([3n]);
  });
});
