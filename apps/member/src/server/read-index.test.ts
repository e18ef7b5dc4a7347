import { LinearizableReads } from './read-index';

function setup(retryIntervalMs = 60_000, timeoutMs = 120_000) {
  const requested: Uint8Array[] = [];
  let applied = 0;
  let nextId = 1n;
  const reads = new LinearizableReads({
    requestReadIndex: (ctx) => requested.push(ctx),
    appliedIndex: () => applied,
    nextRequestId: () => nextId++,
    retryIntervalMs,
    timeoutMs,
    timeoutError: () => new Error('timed out'),
    readersMax: 3,
    tooManyError: () => new Error('too many'),
  });
  return { reads, requested, setApplied: (i: number) => (applied = i) };
}

describe('LinearizableReads', () => {
  it('batches readers that arrive while a round is in flight into the next round', async () => {
    const { reads, requested, setApplied } = setup();
    const done: string[] = [];
    void reads.waitReadable().then(() => done.push('a'));
    void reads.waitReadable().then(() => done.push('b'));
    expect(requested).toHaveLength(1);
    reads.onReadStates([{ index: 5, requestCtx: requested[0]! }]);
    // b joined after a's round started, so it needs a round of its own.
    expect(requested).toHaveLength(2);
    await Promise.resolve();
    expect(done).toEqual([]); // index 5 not applied yet
    setApplied(5);
    reads.onApplied(5);
    await new Promise((r) => setImmediate(r));
    expect(done).toEqual(['a']);
    reads.onReadStates([{ index: 5, requestCtx: requested[1]! }]);
    await new Promise((r) => setImmediate(r));
    expect(done).toEqual(['a', 'b']);
    reads.close(new Error('closed'));
  });

  it('ignores answers with a foreign ctx, retries with a fresh ctx, then times out', async () => {
    const { reads, requested } = setup(20, 60);
    const failure = reads.waitReadable().catch((e: Error) => e.message);
    reads.onReadStates([{ index: 1, requestCtx: new Uint8Array([9]) }]);
    await new Promise((r) => setTimeout(r, 30));
    expect(requested.length).toBeGreaterThanOrEqual(2);
    expect(Buffer.from(requested[0]!).equals(Buffer.from(requested[1]!))).toBe(false);
    expect(await failure).toBe('timed out');
  });

  it('refuses readers beyond the bound', async () => {
    const { reads } = setup();
    const pending = [reads.waitReadable(), reads.waitReadable(), reads.waitReadable()];
    await expect(reads.waitReadable()).rejects.toThrow('too many');
    reads.close(new Error('closed'));
    await Promise.allSettled(pending);
  });
});
