// Configuration changes as pure transitions (thesis §4.1 single-server changes, §4.3 / paper §6
// joint consensus).
import fc from 'fast-check';
import { ConfChangeError, Changer } from '../../src/confchange/changer';
import { confStatesEqual, restoreConfig } from '../../src/confchange/restore';
import { ProgressTracker } from '../../src/tracker/tracker';
import { type ConfChangeSingle, type ConfState, ConfChangeType } from '../../src/types';

const add = (n: number): ConfChangeSingle => ({ type: ConfChangeType.AddNode, nodeId: BigInt(n) });
const learner = (n: number): ConfChangeSingle => ({ type: ConfChangeType.AddLearnerNode, nodeId: BigInt(n) });
const remove = (n: number): ConfChangeSingle => ({ type: ConfChangeType.RemoveNode, nodeId: BigInt(n) });

function trackerWith(...changes: ConfChangeSingle[]): ProgressTracker {
  const t = new ProgressTracker(10, 0);
  for (const cc of changes) apply(t, new Changer(t, 5).simple([cc]));
  return t;
}

function apply(t: ProgressTracker, r: { config: ProgressTracker['config']; progress: ProgressTracker['progress'] }): void {
  t.config = r.config;
  t.progress = r.progress;
}

describe('simple changes (thesis §4.1: one server at a time)', () => {
  it('adds voters one by one and new peers start probing at lastIndex', () => {
    const t = trackerWith(add(1), add(2));
    expect(t.confState().voters).toEqual([1n, 2n]);
    expect(t.progress.get(2n)!.next).toBe(5);
    expect(t.progress.get(2n)!.recentActive).toBe(true);
  });

  it('rejects a simple change that alters more than one voter', () => {
    const t = trackerWith(add(1));
    expect(() => new Changer(t, 5).simple([add(2), add(3)])).toThrow('more than one voter changed without entering joint config');
    // Adding a learner along with a voter is fine: only one voter changes.
    expect(() => new Changer(t, 5).simple([add(2), learner(3)])).not.toThrow();
  });

  it('refuses to remove every voter', () => {
    const t = trackerWith(add(1));
    expect(() => new Changer(t, 5).simple([remove(1)])).toThrow('removed all voters');
  });

  it('promotes a learner to voter and demotes a voter to learner', () => {
    const t = trackerWith(add(1), learner(2));
    expect(t.progress.get(2n)!.isLearner).toBe(true);
    apply(t, new Changer(t, 5).simple([add(2)]));
    expect(t.confState()).toMatchObject({ voters: [1n, 2n], learners: [] });
    expect(t.progress.get(2n)!.isLearner).toBe(false);
    apply(t, new Changer(t, 5).simple([learner(2)]));
    expect(t.confState()).toMatchObject({ voters: [1n], learners: [2n] });
  });

  it('does not mutate the input tracker', () => {
    const t = trackerWith(add(1));
    new Changer(t, 5).simple([add(2)]);
    expect(t.confState().voters).toEqual([1n]);
  });
});

describe('joint consensus (§6: C_old,new then C_new)', () => {
  it('enters joint with outgoing = old voters and leaves to the new config', () => {
    const t = trackerWith(add(1), add(2), add(3));
    apply(t, new Changer(t, 5).enterJoint(true, [remove(1), add(4), add(5)]));
    expect(t.confState()).toEqual({ voters: [2n, 3n, 4n, 5n], votersOutgoing: [1n, 2n, 3n], learners: [], learnersNext: [], autoLeave: true });
    // Node 1 is still tracked: it votes in the outgoing half.
    expect(t.progress.has(1n)).toBe(true);
    expect(() => new Changer(t, 5).enterJoint(false, [add(6)])).toThrow('config is already joint');
    expect(() => new Changer(t, 5).simple([add(6)])).toThrow("can't apply simple config change in joint config");
    apply(t, new Changer(t, 5).leaveJoint());
    expect(t.confState()).toEqual({ voters: [2n, 3n, 4n, 5n], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false });
    expect(t.progress.has(1n)).toBe(false);
  });

  it('demoting a voter in a joint config stages it in learnersNext until the config is left', () => {
    const t = trackerWith(add(1), add(2), add(3));
    apply(t, new Changer(t, 5).enterJoint(false, [learner(3)]));
    expect(t.confState()).toMatchObject({ voters: [1n, 2n], votersOutgoing: [1n, 2n, 3n], learnersNext: [3n], learners: [] });
    expect(t.progress.get(3n)!.isLearner).toBe(false);
    apply(t, new Changer(t, 5).leaveJoint());
    expect(t.confState()).toMatchObject({ voters: [1n, 2n], learners: [3n], learnersNext: [] });
    expect(t.progress.get(3n)!.isLearner).toBe(true);
  });

  it('cannot leave a non-joint config or make an empty config joint', () => {
    expect(() => new Changer(trackerWith(add(1)), 5).leaveJoint()).toThrow(ConfChangeError);
    expect(() => new Changer(new ProgressTracker(10, 0), 5).enterJoint(false, [add(1)])).toThrow("can't make a zero-voter config joint");
  });
});

describe('restore from ConfState', () => {
  const idsArb = fc.uniqueArray(fc.integer({ min: 1, max: 9 }).map(BigInt), { maxLength: 6 });
  it('reproduces any valid ConfState exactly', () => {
    fc.assert(fc.property(idsArb, idsArb, fc.boolean(), fc.boolean(), (a, b, joint, autoLeave) => {
      // Build a valid state: voters from a (non-empty), learners from b minus voters.
      fc.pre(a.length > 0);
      const voters = a;
      const outgoing = joint ? b.filter((_, i) => i % 2 === 0).concat(voters.slice(0, 1)) : [];
      const uniqueOutgoing = [...new Set(outgoing)];
      const learnersNext = joint ? uniqueOutgoing.filter((id) => !voters.includes(id)).slice(0, 1) : [];
      const learners = b.filter((id) => !voters.includes(id) && !uniqueOutgoing.includes(id));
      const cs: ConfState = {
        voters, learners, votersOutgoing: uniqueOutgoing, learnersNext,
        autoLeave: joint && uniqueOutgoing.length > 0 ? autoLeave : false,
      };
      const t = new ProgressTracker(10, 0);
      restoreConfig(t, 7, cs);
      expect(confStatesEqual(t.confState(), cs)).toBe(true);
    }), { numRuns: 300 });
  });
});
