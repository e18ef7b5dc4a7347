// The backend quota follows etcd 3.4's rule exactly: size + cost < quota, etcd's costs.
import pino from 'pino';
import { etcdserverpb } from '@keel/proto';
import { AlarmSet } from './alarms';
import { LEASE_GRANT_COST, putCost, startQuotaGuard, txnCost, type QuotaGuard } from './quota';

const b = (text: string): Buffer => Buffer.from(text, 'utf8');
const put = (key: string, valueBytes: number): etcdserverpb.PutRequest =>
  etcdserverpb.PutRequest.fromPartial({ key: b(key), value: Buffer.alloc(valueBytes) });
const putOp = (key: string, valueBytes: number): etcdserverpb.RequestOp => ({ request: { $case: 'requestPut', value: put(key, valueBytes) } });

const guards: QuotaGuard[] = [];
afterEach(() => guards.splice(0).forEach((guard) => guard.stop()));

function guardWith(quotaBytes: number, size: { value: number }) {
  const proposals: unknown[] = [];
  const alarms = new AlarmSet();
  const guard = startQuotaGuard({
    quotaBytes,
    dbSize: () => size.value,
    alarms,
    memberId: 7n,
    proposer: {
      propose: (request: unknown) => {
        proposals.push(request);
        return Promise.resolve(undefined as never);
      },
    },
    logger: pino({ level: 'silent' }),
  });
  guards.push(guard);
  return { guard, proposals, alarms };
}

describe("etcd's costs", () => {
  it('a put costs 256 + key + value bytes', () => {
    expect(putCost(put('key', 1024 * 1024))).toBe(256 + 3 + 1048576);
  });

  it('a txn costs the larger branch of direct puts; nested txns and other ops cost nothing', () => {
    const nested: etcdserverpb.RequestOp = {
      request: { $case: 'requestTxn', value: etcdserverpb.TxnRequest.fromPartial({ success: [putOp('n', 5000)] }) },
    };
    const txn = etcdserverpb.TxnRequest.fromPartial({
      success: [putOp('a', 10), putOp('b', 20), nested],
      failure: [putOp('c', 100)],
    });
    expect(txnCost(txn)).toBe(Math.max(256 + 1 + 10 + 256 + 1 + 20, 256 + 1 + 100));
    expect(txnCost(etcdserverpb.TxnRequest.fromPartial({ success: [nested] }))).toBe(0);
  });

  it('a lease grant costs 64', () => {
    expect(LEASE_GRANT_COST).toBe(64);
  });
});

describe('the quota guard', () => {
  it('lets a write through only while size + cost stays strictly below the quota', () => {
    const size = { value: 1000 };
    const { guard } = guardWith(2000, size);
    expect(() => guard.check(999)).not.toThrow();
    expect(() => guard.check(1000)).toThrow(/etcdserver: mvcc: database space exceeded/);
  });

  it('always passes requests that write nothing', () => {
    const { guard, proposals } = guardWith(10, { value: 1_000_000 });
    expect(() => guard.check(0)).not.toThrow();
    expect(proposals).toEqual([]);
  });

  it('reads the size on every check (no stale cached figure)', () => {
    const size = { value: 0 };
    const { guard } = guardWith(16 * 1024 * 1024, size);
    const cost = putCost(put('key', 1024 * 1024));
    size.value = 12623872;
    expect(() => guard.check(cost)).not.toThrow();
    size.value = 15773696; // etcd after the 8th paced 1 MiB put: the 9th is refused
    expect(() => guard.check(cost)).toThrow(/database space exceeded/);
  });

  it('raises the NOSPACE alarm through raft once while it is pending or active', () => {
    const { guard, proposals, alarms } = guardWith(100, { value: 100 });
    expect(() => guard.check(1)).toThrow();
    expect(() => guard.check(1)).toThrow();
    expect(proposals).toEqual([
      {
        $case: 'alarm',
        value: { action: etcdserverpb.AlarmRequest_AlarmAction.ACTIVATE, memberID: 7n, alarm: etcdserverpb.AlarmType.NOSPACE },
      },
    ]);
    alarms.activate({ memberId: 7n, alarm: etcdserverpb.AlarmType.NOSPACE });
    expect(() => guard.check(1)).toThrow();
    expect(proposals).toHaveLength(1);
  });
});
