import { etcdserverpb } from '@keel/proto';
import { AlarmSet } from './alarms';
import { backendApplier, cappedApplier, mayGrowDatabase, type ApplyContext } from './appliers';
import { Lessor } from '../lease/lessor';
import { Membership } from '../cluster/membership';
import type { StoreBatch } from './store-port';

function fakeBatch(): StoreBatch & { raw: Map<string, Buffer>; deleted: string[] } {
  const raw = new Map<string, Buffer>();
  const deleted: string[] = [];
  const header = { clusterId: 0n, memberId: 0n, revision: 7n, raftTerm: 0n };
  return {
    raw,
    deleted,
    range: async () => ({ header, kvs: [], more: false, count: 0n }),
    put: async () => ({ header }),
    deleteRange: async () => ({ header, deleted: 0n, prevKvs: [] }),
    txn: async (r) => {
      for (const op of r.success) if (op.request?.$case === 'requestDeleteRange') deleted.push(op.request.value.key.toString());
      return { header, succeeded: true, responses: [] };
    },
    compact: () => ({ physical: Promise.resolve() }),
    rawPut: (space, key, value) => raw.set(`${space}/${Buffer.from(key).toString('hex')}`, Buffer.from(value)),
    rawDelete: (space, key) => raw.delete(`${space}/${Buffer.from(key).toString('hex')}`),
    holdReadsUntilCommit: () => undefined,
    commit: async () => undefined,
  };
}

function setup() {
  const lessor = new Lessor({ minTtlSeconds: 2 });
  const alarms = new AlarmSet();
  const chain = cappedApplier(
    backendApplier({ lessor, alarms, membership: new Membership(1n), currentRevision: () => 7 }),
    alarms,
  );
  const batch = fakeBatch();
  const ctx: ApplyContext = { batch, index: 10, term: 2 };
  return { lessor, alarms, chain, batch, ctx };
}

const putReq = (lease = 0n): etcdserverpb.PutRequest => ({
  key: Buffer.from('k'),
  value: Buffer.from('v'),
  lease,
  prevKv: false,
  ignoreValue: false,
  ignoreLease: false,
});

describe('apply chain', () => {
  it('grants a lease once, persists it, and refuses the same ID again', async () => {
    const { chain, ctx, lessor, batch } = setup();
    const granted = await chain.apply({ $case: 'leaseGrant', value: { ID: 5n, TTL: 1n } }, ctx);
    expect(granted).toEqual({ ok: true, response: expect.objectContaining({ ID: 5n, TTL: 2n }) });
    expect(lessor.has(5n)).toBe(true);
    expect(batch.raw.size).toBe(1);
    await expect(chain.apply({ $case: 'leaseGrant', value: { ID: 5n, TTL: 10n } }, ctx)).rejects.toThrow(
      'etcdserver: lease already exists',
    );
  });

  it('revokes a lease by deleting its keys in one txn', async () => {
    const { chain, ctx, lessor, batch } = setup();
    await chain.apply({ $case: 'leaseGrant', value: { ID: 9n, TTL: 10n } }, ctx);
    lessor.attach(9n, Buffer.from('a'));
    lessor.attach(9n, Buffer.from('b'));
    const revoked = await chain.apply({ $case: 'leaseRevoke', value: { ID: 9n } }, ctx);
    expect(revoked.ok).toBe(true);
    expect(batch.deleted.sort()).toEqual(['a', 'b']);
    expect(batch.raw.size).toBe(0);
  });

  it('answers a put on an unknown lease with LeaseNotFound', async () => {
    const { chain, ctx } = setup();
    const outcome = await chain.apply({ $case: 'put', value: putReq(77n) }, ctx);
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error.message).toBe('etcdserver: requested lease not found');
  });

  it('with NOSPACE raised, refuses writes that grow the database but not deletes', async () => {
    const { chain, ctx, alarms } = setup();
    await chain.apply(
      {
        $case: 'alarm',
        value: { action: etcdserverpb.AlarmRequest_AlarmAction.ACTIVATE, memberID: 3n, alarm: etcdserverpb.AlarmType.NOSPACE },
      },
      ctx,
    );
    expect(alarms.has(etcdserverpb.AlarmType.NOSPACE)).toBe(true);
    const put = await chain.apply({ $case: 'put', value: putReq() }, ctx);
    expect(!put.ok && put.error.message).toBe('etcdserver: mvcc: database space exceeded');
    const del = await chain.apply({ $case: 'deleteRange', value: { key: Buffer.from('k'), rangeEnd: Buffer.alloc(0), prevKv: false } }, ctx);
    expect(del.ok).toBe(true);
    const disarm = await chain.apply(
      {
        $case: 'alarm',
        value: { action: etcdserverpb.AlarmRequest_AlarmAction.DEACTIVATE, memberID: 3n, alarm: etcdserverpb.AlarmType.NOSPACE },
      },
      ctx,
    );
    expect(disarm.ok).toBe(true);
    expect((await chain.apply({ $case: 'put', value: putReq() }, ctx)).ok).toBe(true);
  });

  it('classifies which requests may grow the database', () => {
    expect(mayGrowDatabase({ $case: 'put', value: putReq() })).toBe(true);
    expect(mayGrowDatabase({ $case: 'compaction', value: { revision: 1n, physical: false } })).toBe(false);
    expect(
      mayGrowDatabase({
        $case: 'txn',
        value: { compare: [], success: [], failure: [{ request: { $case: 'requestPut', value: putReq() } }] },
      }),
    ).toBe(true);
  });
});
