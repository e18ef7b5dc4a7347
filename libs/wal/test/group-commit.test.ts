// Group commit: concurrent append() callers share write() calls and fdatasyncs.
import { Wal } from '../src';
import { METADATA, SMALL, countingFs, indexes, makeEntries, useTempWalDir } from './helpers';

let dir: string;
useTempWalDir((_, d) => (dir = d));

describe('group commit', () => {
  it('resolves many concurrent appends with far fewer fdatasyncs, each after a sync that covers it', async () => {
    const counting = countingFs();
    const wal = await Wal.create(dir, METADATA, { ...SMALL, fs: counting });
    const syncsAtStart = counting.datasyncs;
    const writesAtStart = counting.writes;
    const appenders = 500;
    const syncsSeenAtResolve: number[] = [];
    await Promise.all(
      makeEntries(1, appenders, { size: 256 }).map((entry) =>
        wal.append(null, [entry]).then(() => syncsSeenAtResolve.push(counting.datasyncs - syncsAtStart)),
      ),
    );
    const syncs = counting.datasyncs - syncsAtStart;
    const writes = counting.writes - writesAtStart;
    expect(syncs).toBeGreaterThanOrEqual(1);
    expect(syncs).toBeLessThan(appenders / 10);
    expect(writes).toBe(syncs); // one write() per batch
    expect(wal.counters).toMatchObject({ syncs, writes, requests: appenders });
    expect(syncsSeenAtResolve.every((n) => n >= 1)).toBe(true);
    await wal.close();
    const opened = await Wal.open(dir, SMALL);
    expect(indexes(opened.entries)).toEqual(makeEntries(1, appenders).map((e) => e.index));
    await opened.wal.close();
  });

  it('does not resolve an append before the fdatasync that follows its write', async () => {
    const events: string[] = [];
    const counting = countingFs();
    const base = counting.open;
    counting.open = async (p, flags) => {
      const file = await base(p, flags);
      return {
        ...file,
        write: async (...args: Parameters<typeof file.write>) => {
          const result = await file.write(...args);
          events.push('write');
          return result;
        },
        datasync: async () => {
          await file.datasync();
          events.push('sync');
        },
        truncate: (length: number) => file.truncate(length),
        close: () => file.close(),
      };
    };
    const wal = await Wal.create(dir, METADATA, { ...SMALL, fs: counting });
    events.length = 0;
    const done = [1, 2, 3].map((i) => wal.append(null, makeEntries(i, 1)).then(() => events.push(`ack${i}`)));
    await Promise.all(done);
    // Acks come in runs right after a sync, never right after a write.
    const withoutAcks = (upTo: number) => events.slice(0, upTo).filter((e) => !e.startsWith('ack'));
    for (const i of [1, 2, 3]) expect(withoutAcks(events.indexOf(`ack${i}`)).at(-1)).toBe('sync');
    expect(events.filter((e) => e === 'write').length).toBeLessThanOrEqual(3);
    await wal.close();
  });

  it('save() writes without syncing; sync() makes it durable with one fdatasync', async () => {
    const counting = countingFs();
    const wal = await Wal.create(dir, METADATA, { ...SMALL, fs: counting });
    const syncsAtStart = counting.datasyncs;
    for (let i = 1; i <= 20; i++) await wal.save({ term: 1, vote: 0n, commit: i }, makeEntries(i, 1));
    expect(counting.datasyncs).toBe(syncsAtStart);
    await wal.sync();
    expect(counting.datasyncs).toBe(syncsAtStart + 1);
    await wal.close();
  });

  it('holds callers back when the queue bound is reached and keeps their order', async () => {
    const wal = await Wal.create(dir, METADATA, { ...SMALL, queuedBytesMax: 4096 });
    const entries = makeEntries(1, 200, { size: 500 });
    await Promise.all(entries.map((entry) => wal.append(null, [entry])));
    expect(wal.counters.writes).toBeGreaterThan(200 / 9); // at most ~8 entries fit one batch
    await wal.close();
    const opened = await Wal.open(dir, SMALL);
    expect(indexes(opened.entries)).toEqual(indexes(entries));
    await opened.wal.close();
  });
});
