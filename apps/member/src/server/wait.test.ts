import { createWaitRegistry } from './wait';
import { createRequestIdGenerator } from './request-id';

describe('wait registry', () => {
  it('resolves the registered waiter once and ignores unknown IDs', async () => {
    const waits = createWaitRegistry<string>(10);
    const pending = waits.register(7n);
    waits.trigger(8n, 'other');
    waits.trigger(7n, 'done');
    waits.trigger(7n, 'again');
    await expect(pending).resolves.toBe('done');
    expect(waits.size).toBe(0);
  });

  it('bounds the number of waiters and fails them all on shutdown', async () => {
    const waits = createWaitRegistry<string>(2);
    const a = waits.register(1n);
    const b = waits.register(2n);
    expect(() => waits.register(3n)).toThrow('too many requests');
    expect(() => waits.register(1n)).toThrow('duplicate');
    waits.failAll(new Error('stopped'));
    await expect(a).rejects.toThrow('stopped');
    await expect(b).rejects.toThrow('stopped');
  });
});

describe('request IDs', () => {
  it('carry the member ID in the top 16 bits and increase', () => {
    const ids = createRequestIdGenerator(0x1234_5678_9abc_def0n, 1_700_000_000_000);
    const first = ids.next();
    const second = ids.next();
    expect(first >> 48n).toBe(0xdef0n);
    expect(second).toBe(first + 1n);
    const other = createRequestIdGenerator(0x1234_5678_9abc_def1n, 1_700_000_000_000).next();
    expect(other).not.toBe(first);
  });
});

describe('wait deadlines', () => {
  /** A registry on a hand-driven clock; real time passes too, so the sweep timer fires. */
  function clocked(sweepIntervalMs = 10) {
    let at = 0;
    const waits = createWaitRegistry<string>(100, { sweepIntervalMs, now: () => at });
    return {
      waits,
      advance: async (ms: number) => {
        at += ms;
        await new Promise((resolve) => setTimeout(resolve, sweepIntervalMs * 3));
      },
    };
  }
  const timeout = (ms: number, text = 'timed out') => ({ ms, error: () => new Error(text) });
  /** Records how a waiter settled, as soon as it does. */
  function outcome(promise: Promise<string>): { current: string } {
    const seen = { current: 'pending' };
    promise.then(
      (value) => (seen.current = `resolved: ${value}`),
      (error: Error) => (seen.current = `rejected: ${error.message}`),
    );
    return seen;
  }

  it('fails a waiter with its timeout error once its deadline passes, not before', async () => {
    const { waits, advance } = clocked();
    const pending = outcome(waits.register(1n, timeout(100, 'request timed out')));
    await advance(99);
    expect(pending.current).toBe('pending');
    expect(waits.isRegistered(1n)).toBe(true);
    await advance(1);
    expect(pending.current).toBe('rejected: request timed out');
    expect(waits.size).toBe(0);
  });

  it('expires waiters with different timeouts independently of registration order', async () => {
    const { waits, advance } = clocked();
    const long = outcome(waits.register(1n, timeout(1000, 'long')));
    await advance(10);
    const short = outcome(waits.register(2n, timeout(50, 'short')));
    const untimed = outcome(waits.register(3n));
    await advance(60);
    expect([long.current, short.current, untimed.current]).toEqual(['pending', 'rejected: short', 'pending']);
    await advance(940);
    expect([long.current, untimed.current]).toEqual(['rejected: long', 'pending']);
    waits.trigger(3n, 'done');
    await advance(0);
    expect(untimed.current).toBe('resolved: done');
  });

  it('a waiter answered before its deadline is not failed later', async () => {
    const { waits, advance } = clocked();
    const pending = outcome(waits.register(1n, timeout(20)));
    waits.trigger(1n, 'applied');
    await advance(100);
    expect(pending.current).toBe('resolved: applied');
  });

  it('keeps working after the registry drains and the sweep stops', async () => {
    const { waits, advance } = clocked();
    const first = outcome(waits.register(1n, timeout(20, 'first')));
    await advance(50);
    expect(first.current).toBe('rejected: first');
    expect(waits.size).toBe(0);
    const second = outcome(waits.register(2n, timeout(20, 'second')));
    await advance(50);
    expect(second.current).toBe('rejected: second');
  });
});
