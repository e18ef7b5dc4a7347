import { HEALTHY_NETWORK, Prng, SimNetwork } from '../src/testing';

describe('SimNetwork', () => {
  it('delivers after the delay and honours one-way cuts', () => {
    const net = new SimNetwork<string>(new Prng(1), HEALTHY_NETWORK);
    net.block(1n, 2n);
    expect(net.send(1n, 2n, 'a', 0)).toBe('partitioned');
    expect(net.send(2n, 1n, 'b', 0)).toBeUndefined();
    expect(net.takeDue(0)).toEqual([]);
    expect(net.takeDue(1)).toEqual([{ from: 2n, to: 1n, msg: 'b' }]);
  });

  it('drops messages in flight when their link is cut before delivery', () => {
    const net = new SimNetwork<string>(new Prng(1), HEALTHY_NETWORK);
    net.send(1n, 2n, 'a', 0);
    net.split([1n], [2n, 3n]);
    expect(net.takeDue(5)).toEqual([{ from: 1n, to: 2n, msg: 'a', cut: true }]);
    net.heal();
    net.send(1n, 2n, 'c', 5);
    expect(net.takeDue(6).map((d) => d.msg)).toEqual(['c']);
  });

  it('bounds messages in flight', () => {
    const net = new SimNetwork<number>(new Prng(1), HEALTHY_NETWORK, 3);
    const reasons = [0, 1, 2, 3].map((i) => net.send(1n, 2n, i, 0));
    expect(reasons).toEqual([undefined, undefined, undefined, 'overflow']);
  });

  it('keeps send order unless reordering is on', () => {
    const net = new SimNetwork<number>(new Prng(3), HEALTHY_NETWORK);
    for (let i = 0; i < 20; i++) net.send(1n, 2n, i, 0);
    expect(net.takeDue(1).map((d) => d.msg)).toEqual([...Array(20).keys()]);
    net.faults = { ...HEALTHY_NETWORK, reorder: true };
    for (let i = 0; i < 20; i++) net.send(1n, 2n, i, 1);
    expect(net.takeDue(2).map((d) => d.msg)).not.toEqual([...Array(20).keys()]);
  });

  it('replays identically for equal seeds', () => {
    const faults = { dropRate: 0.3, duplicateRate: 0.3, delayMaxSteps: 3, reorder: true };
    const trace = (seed: number) => {
      const net = new SimNetwork<number>(new Prng(seed), faults);
      for (let i = 0; i < 50; i++) net.send(1n, 2n, i, i % 5);
      return [1, 2, 3, 4, 5, 6, 7, 8, 9].map((t) => net.takeDue(t).map((d) => d.msg));
    };
    expect(trace(42)).toEqual(trace(42));
    expect(trace(42)).not.toEqual(trace(43));
  });
});
