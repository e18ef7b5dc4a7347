import { Lessor } from './lessor';

// etcd's LeaseTimeToLive reports int64(Remaining().Seconds()): whole seconds, truncated, so a
// 60 s lease shows 59 as soon as any time has passed (etcdctl lease timetolive right after grant).
describe('TimeToLive seconds as etcd reports them', () => {
  it('truncates the remaining time to whole seconds', () => {
    let now = 5_000_000;
    const lessor = new Lessor({ minTtlSeconds: 1, now: () => now });
    lessor.promote(0);
    const record = lessor.grant(9n, 60);
    expect(lessor.timeToLiveSeconds(record)).toBe(60);
    now += 1;
    expect(lessor.timeToLiveSeconds(record)).toBe(59);
    now += 58_998;
    expect(lessor.timeToLiveSeconds(record)).toBe(1);
    now += 2;
    expect(lessor.timeToLiveSeconds(record)).toBe(0);
    now += 1_000;
    expect(lessor.timeToLiveSeconds(record)).toBe(-1);
  });

  it('reports the granted TTL on a member whose clocks are not running', () => {
    const lessor = new Lessor({ minTtlSeconds: 1, now: () => 0 });
    expect(lessor.timeToLiveSeconds(lessor.grant(4n, 30))).toBe(30);
  });
});
