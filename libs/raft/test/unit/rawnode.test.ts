// The RawNode contract: proposals, Ready/advance, errors, size limits, bootstrap and restart.
import fc from 'fast-check';
import {
  decodeConfChange, decodeConfChangeV2, encodeConfChange, encodeConfChangeV2,
} from '../../src/confchange-codec';
import { ProposalDroppedError, RaftInvariantError, StepLocalMsgError, StepPeerNotFoundError } from '../../src/errors';
import { createRandom } from '../../src/random';
import { RawNode } from '../../src/rawnode';
import { MemoryStorage } from '../../src/storage';
import {
  ConfChangeTransition, ConfChangeType, EntryType, MessageType, StateType, emptyConfState, newMessage,
} from '../../src/types';
import { Cluster } from './cluster';
import { dec, enc, ids } from './helpers';

function singleNode(opts = {}): { node: RawNode; storage: MemoryStorage } {
  const storage = MemoryStorage.withConfState({ ...emptyConfState(), voters: [1n] });
  const node = new RawNode({ id: 1n, electionTick: 10, heartbeatTick: 1, storage, ...opts });
  return { node, storage };
}

function drain(node: RawNode, storage: MemoryStorage): string[] {
  const applied: string[] = [];
  while (node.hasReady()) {
    const rd = node.ready();
    storage.append(rd.entries);
    if (rd.hardState) storage.setHardState(rd.hardState);
    for (const e of rd.committedEntries) if (e.data.length > 0) applied.push(dec(e.data));
    node.advance(rd);
  }
  return applied;
}

describe('proposals', () => {
  it('are dropped with ProposalDroppedError when there is no leader', () => {
    const c = new Cluster([1, 2, 3]);
    c.stabilize();
    expect(() => c.get(2).node.propose(enc('x'))).toThrow(new ProposalDroppedError());
    expect(new ProposalDroppedError().message).toBe('raft proposal dropped');
  });

  it('are forwarded by followers to the leader, or dropped when forwarding is disabled', () => {
    const c = new Cluster([1, 2, 3]);
    c.stabilize();
    c.get(1).node.campaign();
    c.stabilize();
    c.get(2).node.propose(enc('via-follower'));
    c.stabilize();
    expect(c.sent.some((m) => m.type === MessageType.Prop && m.from === 2n && m.to === 1n)).toBe(true);
    expect(c.get(3).applied).toEqual(['via-follower']);

    const d = new Cluster([1, 2, 3], { disableProposalForwarding: true });
    d.stabilize();
    d.get(1).node.campaign();
    d.stabilize();
    expect(() => d.get(2).node.propose(enc('x'))).toThrow(ProposalDroppedError);
  });

  it('maxUncommittedEntriesSize: the leader drops proposals beyond the cap until entries commit', () => {
    const c = new Cluster([1, 2, 3], { maxUncommittedEntriesSize: 1000 });
    c.stabilize();
    c.get(1).node.campaign();
    c.stabilize();
    c.setDown(2, true);
    c.setDown(3, true);
    const leader = c.get(1).node;
    leader.propose(new Uint8Array(600));
    expect(() => leader.propose(new Uint8Array(600))).toThrow(ProposalDroppedError);
    leader.propose(new Uint8Array(400)); // fits exactly
    c.setDown(2, false);
    c.setDown(3, false);
    c.tickAll(3);
    leader.propose(new Uint8Array(600)); // committed entries released the budget
  });

  it('a single oversized proposal is still admitted when nothing is outstanding', () => {
    const { node } = singleNode({ maxUncommittedEntriesSize: 10 });
    node.campaign();
    node.propose(new Uint8Array(100));
  });
});

describe('Ready / advance', () => {
  it('carries entries (mustSync), committed entries, hard and soft state changes', () => {
    const { node, storage } = singleNode();
    node.campaign();
    const rd = node.ready();
    expect(rd.softState).toEqual({ lead: 1n, raftState: StateType.Leader });
    expect(rd.hardState).toEqual({ term: 1, vote: 1n, commit: 1 });
    expect(rd.entries.map((e) => e.index)).toEqual([1]);
    expect(rd.committedEntries.map((e) => e.index)).toEqual([1]);
    expect(rd.mustSync).toBe(true);
    expect(() => node.ready()).toThrow(RaftInvariantError);
    storage.append(rd.entries);
    node.advance(rd);
    expect(node.hasReady()).toBe(false);
    node.propose(enc('a'));
    const rd2 = node.ready();
    expect(rd2.softState).toBeUndefined();
    expect(rd2.hardState).toEqual({ term: 1, vote: 1n, commit: 2 });
    expect(rd2.committedEntries.map((e) => dec(e.data))).toEqual(['a']);
    node.advance(rd2);
    expect(node.status().applied).toBe(2);
  });

  it('maxCommittedSizePerReady pages committed entries across Readies', () => {
    const { node, storage } = singleNode({ maxCommittedSizePerReady: 300 });
    node.campaign();
    drain(node, storage);
    for (let i = 0; i < 6; i++) node.propose(enc(String(i).repeat(100)));
    const sizes: number[] = [];
    while (node.hasReady()) {
      const rd = node.ready();
      storage.append(rd.entries);
      if (rd.committedEntries.length > 0) sizes.push(rd.committedEntries.length);
      node.advance(rd);
    }
    expect(sizes).toEqual([2, 2, 2]); // 124 bytes each, two fit in 300
  });

  it('step() refuses local message types and responses from unknown peers', () => {
    const { node } = singleNode();
    expect(() => node.step(newMessage({ type: MessageType.Hup, from: 1n }))).toThrow(StepLocalMsgError);
    expect(() => node.step(newMessage({ type: MessageType.AppResp, from: 9n, to: 1n, term: 1 }))).toThrow(StepPeerNotFoundError);
  });

  it('status() reports progress only on the leader', () => {
    const c = new Cluster([1, 2, 3]);
    c.stabilize();
    c.get(1).node.campaign();
    c.stabilize();
    const st = c.get(1).node.status();
    expect([...st.progress!.keys()]).toEqual(ids(1, 2, 3));
    expect(st.progress!.get(2n)!.match).toBe(st.hardState.commit);
    expect(c.get(2).node.status().progress).toBeUndefined();
    expect(st.config.voters).toEqual(ids(1, 2, 3));
  });
});

describe('bootstrap and restart', () => {
  it('bootstrap writes one committed AddNode per peer; refuses a non-empty storage', () => {
    const storage = new MemoryStorage();
    const node = new RawNode({ id: 1n, electionTick: 10, heartbeatTick: 1, storage });
    node.bootstrap([{ id: 1n }, { id: 2n }]);
    const rd = node.ready();
    expect(rd.entries.map((e) => e.type)).toEqual([EntryType.ConfChange, EntryType.ConfChange]);
    expect(rd.committedEntries).toHaveLength(2);
    expect(rd.hardState).toEqual({ term: 1, vote: 0n, commit: 2 });
    expect(decodeConfChange(rd.entries[1]!.data)).toEqual({ type: ConfChangeType.AddNode, nodeId: 2n });
    storage.append(rd.entries);
    node.advance(rd);
    expect(() => new RawNode({ id: 1n, electionTick: 10, heartbeatTick: 1, storage }).bootstrap([{ id: 1n }])).toThrow('nonempty');
  });

  it('a restarted node resumes term, vote, commit and configuration from storage', () => {
    const { node, storage } = singleNode();
    node.campaign();
    node.propose(enc('a'));
    drain(node, storage);
    const restarted = new RawNode({ id: 1n, electionTick: 10, heartbeatTick: 1, storage, applied: 2 });
    const st = restarted.status();
    expect(st.hardState).toEqual({ term: 1, vote: 1n, commit: 2 });
    expect(st.softState.raftState).toBe(StateType.Follower);
    expect(restarted.hasReady()).toBe(false); // applied=2: nothing to re-apply
    restarted.campaign();
    expect(restarted.status().hardState.term).toBe(2);
  });

  it('rejects invalid configuration', () => {
    const storage = new MemoryStorage();
    expect(() => new RawNode({ id: 0n, electionTick: 10, heartbeatTick: 1, storage })).toThrow('none as id');
    expect(() => new RawNode({ id: 1n, electionTick: 1, heartbeatTick: 1, storage })).toThrow('election tick');
  });
});

describe('conf change codec', () => {
  const id = fc.bigInt({ min: 1n, max: (1n << 64n) - 1n });
  const type = fc.constantFrom(ConfChangeType.AddNode, ConfChangeType.RemoveNode, ConfChangeType.UpdateNode, ConfChangeType.AddLearnerNode);
  const ctx = fc.option(fc.uint8Array({ minLength: 1, maxLength: 20 }), { nil: undefined });
  it('round-trips ConfChange', () => {
    fc.assert(fc.property(type, id, ctx, (t, nodeId, context) => {
      const cc = { type: t, nodeId, ...(context ? { context } : {}) };
      expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc);
    }));
  });
  it('round-trips ConfChangeV2 and rejects corrupt input', () => {
    const transition = fc.constantFrom(ConfChangeTransition.Auto, ConfChangeTransition.Implicit, ConfChangeTransition.Explicit);
    fc.assert(fc.property(transition, fc.array(fc.record({ type, nodeId: id }), { maxLength: 5 }), ctx, (tr, changes, context) => {
      const cc = { transition: tr, changes, ...(context ? { context } : {}) };
      const bytes = encodeConfChangeV2(cc);
      expect(decodeConfChangeV2(bytes)).toEqual(cc);
      expect(() => decodeConfChangeV2(bytes.subarray(0, bytes.length - 1))).toThrow();
    }));
  });
});

describe('createRandom', () => {
  it('is deterministic per seed and stays in [0,1)', () => {
    const a = createRandom(42n);
    const b = createRandom(42n);
    const c = createRandom(43n);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(c()).not.toBe(xs[0]);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
  });
});

describe('restart with conf changes applied after the snapshot', () => {
  it('takes the configuration from MemoryStorage.setConfState', () => {
    const { node, storage } = singleNode();
    node.campaign();
    drain(node, storage);
    node.proposeConfChange({ type: ConfChangeType.AddLearnerNode, nodeId: 2n });
    while (node.hasReady()) {
      const rd = node.ready();
      storage.append(rd.entries);
      if (rd.hardState) storage.setHardState(rd.hardState);
      for (const e of rd.committedEntries) {
        if (e.type !== EntryType.Normal) storage.setConfState(node.applyConfChange(decodeConfChange(e.data)));
      }
      node.advance(rd);
    }
    const applied = node.status().applied;
    const restarted = new RawNode({ id: 1n, electionTick: 10, heartbeatTick: 1, storage, applied });
    expect(restarted.status().config).toMatchObject({ voters: [1n], learners: [2n] });
  });
});

describe('malformed input from peers does not crash a node', () => {
  it('drops an empty forwarded proposal and a ReadIndex without context', () => {
    const { node } = singleNode();
    node.campaign();
    expect(() => node.step(newMessage({ type: MessageType.Prop, from: 2n, to: 1n, entries: [] }))).toThrow(ProposalDroppedError);
    node.step(newMessage({ type: MessageType.ReadIndex, from: 2n, to: 1n, entries: [] }));
    expect(node.raft.readStates).toEqual([]);
    expect(node.raft.msgs.filter((m) => m.type === MessageType.ReadIndexResp)).toEqual([]);
  });
});
