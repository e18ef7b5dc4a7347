import { internal } from '@keel/proto';
import { ProposalDroppedError } from '@keel/raft';
import { GrpcError } from '../rpc';
import { Proposer, type ApplyOutcome, type ProposerDeps } from './proposer';
import { createWaitRegistry } from './wait';

const put = { $case: 'put' as const, value: { key: Buffer.from('foo'), value: Buffer.alloc(300, 7), lease: 5n, prevKv: false, ignoreValue: false, ignoreLease: false } };

function proposerWith(overrides: Partial<ProposerDeps> = {}) {
  const proposed: Uint8Array[] = [];
  let nextId = 100n;
  const deps: ProposerDeps = {
    propose: (data) => void proposed.push(data),
    hasLeader: () => true,
    nextRequestId: () => nextId++,
    waits: createWaitRegistry<ApplyOutcome>(10, { sweepIntervalMs: 5 }),
    requestBytesMax: 1024,
    timeoutMs: 5_000,
    ...overrides,
  };
  return { proposer: new Proposer(deps), proposed, deps };
}

describe('Proposer', () => {
  it('proposes the same bytes a fresh InternalRaftRequest encoding gives, and resolves on apply', async () => {
    const { proposer, proposed, deps } = proposerWith();
    const first = proposer.propose<string>(put);
    const second = proposer.propose<string>({ $case: 'deleteRange', value: { key: Buffer.from('a'), rangeEnd: Buffer.from('b'), prevKv: true } });
    const expected = (id: bigint, request: internal.InternalRaftRequest['request']) =>
      Buffer.from(internal.InternalRaftRequest.encode({ header: { id, username: '', authRevision: 0n }, request }).finish());
    expect(Buffer.from(proposed[0]!)).toEqual(expected(100n, put));
    expect(internal.InternalRaftRequest.decode(proposed[1]!).request?.$case).toBe('deleteRange');
    // Each proposal owns its bytes: encoding the second did not overwrite the first.
    expect(Buffer.from(proposed[0]!)).toEqual(expected(100n, put));
    deps.waits.trigger(100n, { ok: true, response: 'put applied' });
    deps.waits.trigger(101n, { ok: false, error: new Error('delete failed') });
    await expect(first).resolves.toBe('put applied');
    await expect(second).rejects.toThrow('delete failed');
  });

  it('refuses oversized requests and proposals without a leader with etcd errors', async () => {
    const tooLarge = proposerWith({ requestBytesMax: 100 });
    await expect(tooLarge.proposer.propose(put)).rejects.toThrow('etcdserver: request is too large');
    const leaderless = proposerWith({ hasLeader: () => false });
    await expect(leaderless.proposer.propose(put)).rejects.toThrow('etcdserver: no leader');
    expect(tooLarge.proposed.length + leaderless.proposed.length).toBe(0);
  });

  it('maps a dropped proposal to no leader', async () => {
    const { proposer } = proposerWith({
      propose: () => {
        throw new ProposalDroppedError();
      },
    });
    await expect(proposer.propose(put)).rejects.toThrow('etcdserver: no leader');
  });

  it('times out an unapplied request with etcd\'s timeout error, honouring a per-call timeout', async () => {
    const { proposer, deps } = proposerWith({ timeoutMs: 60_000 });
    const started = Date.now();
    const error = await proposer.propose(put, 30).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GrpcError);
    expect((error as GrpcError).message).toBe('etcdserver: request timed out');
    expect((error as GrpcError).code).toBe(14);
    expect(Date.now() - started).toBeGreaterThanOrEqual(29);
    expect(deps.waits.size).toBe(0);
  });
});
