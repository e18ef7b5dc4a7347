// Flow control (the leader's per-follower progress; etcd-style Probe/Replicate/Snapshot states).
import { Inflights } from '../../src/tracker/inflights';
import { Progress } from '../../src/tracker/progress';
import { ProgressState } from '../../src/types';

describe('Inflights', () => {
  it('is full at the message cap and frees up to an acked index', () => {
    const inf = new Inflights(3, 0);
    inf.add(1, 10);
    inf.add(2, 10);
    expect(inf.full()).toBe(false);
    inf.add(3, 10);
    expect(inf.full()).toBe(true);
    expect(() => inf.add(4, 1)).toThrow('full');
    inf.freeLE(2);
    expect(inf.count).toBe(1);
    expect(inf.bytes).toBe(10);
    inf.add(4, 5);
    inf.add(5, 5); // wraps around the ring
    expect(inf.count).toBe(3);
    inf.freeLE(5);
    expect(inf.count).toBe(0);
    expect(inf.bytes).toBe(0);
  });

  it('is full at the byte cap', () => {
    const inf = new Inflights(100, 100);
    inf.add(1, 60);
    expect(inf.full()).toBe(false);
    inf.add(2, 50);
    expect(inf.full()).toBe(true);
    inf.freeFirstOne();
    expect(inf.full()).toBe(false);
    expect(inf.bytes).toBe(50);
  });

  it('rejects non-increasing indexes (invariant)', () => {
    const inf = new Inflights(4, 0);
    inf.add(5, 1);
    expect(() => inf.add(5, 1)).toThrow('raft invariant violated');
  });
});

describe('Progress', () => {
  const make = (match: number, next: number): Progress => new Progress({ match, next, maxInflight: 2, maxInflightBytes: 0, isLearner: false });

  it('probe: one message at a time until acknowledged', () => {
    const pr = make(0, 5);
    expect(pr.isPaused()).toBe(false);
    pr.probeSent = true;
    expect(pr.isPaused()).toBe(true);
    expect(pr.maybeUpdate(4)).toBe(true);
    expect(pr.isPaused()).toBe(false);
    expect(pr.maybeUpdate(4)).toBe(false); // stale ack
  });

  it('rejections: probe only honours the latest probe; replicate falls back to match+1', () => {
    const pr = make(3, 10);
    expect(pr.maybeDecrTo(5, 4)).toBe(false); // not the last probe (next-1 = 9)
    expect(pr.maybeDecrTo(9, 6)).toBe(true);
    expect(pr.next).toBe(7);
    pr.maybeUpdate(6);
    pr.becomeReplicate();
    pr.optimisticUpdate(20);
    expect(pr.maybeDecrTo(5, 5)).toBe(false); // below match: stale
    expect(pr.maybeDecrTo(15, 8)).toBe(true);
    expect(pr.next).toBe(7);
  });

  it('snapshot state pauses and resumes after the snapshot index', () => {
    const pr = make(3, 4);
    pr.becomeSnapshot(10);
    expect(pr.state).toBe(ProgressState.Snapshot);
    expect(pr.isPaused()).toBe(true);
    pr.becomeProbe();
    expect(pr.next).toBe(11);
  });

  it('replicate pauses when the inflight window is full', () => {
    const pr = make(0, 1);
    pr.becomeReplicate();
    pr.inflights.add(1, 1);
    pr.inflights.add(2, 1);
    expect(pr.isPaused()).toBe(true);
  });
});
