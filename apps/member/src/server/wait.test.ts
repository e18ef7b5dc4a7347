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
