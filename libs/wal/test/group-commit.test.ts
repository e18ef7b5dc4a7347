// Group commit: concurrent append() callers share write() calls and disk flushes (each batch
// is one O_DSYNC write: no separate fdatasync).
import { Wal, type WalFile } from '../src';
import { METADATA, SMALL, countingFs, indexes, makeEntries, useTempWalDir } from './helpers';

let dir: string;
useTempWalDir((_, d) => (dir = d));

describe('group commit', () => {
  it('resolves many concurrent appends with far fewer fdatasyncs, each after a sync that covers it', async () => {
    const counting = countingFs();
    const wal = await Wal.create(dir, METADATA, { ...SMALL, fs: counting });
    const datasyncsAtStart = counting.datasyncs;
    const syncsAtStart = counting.flushes;
    const writesAtStart = counting.writes;
    const appenders = 500;
    const syncsSeenAtResolve: number[] = [];
    await Promise.all(
      makeEntries(1, appenders, { size: 256 }).map((entry) =>
        wal.append(null, [entry]).then(() => syncsSeenAtResolve.push(counting.flushes - syncsAtStart)),
      ),
    );
    const syncs = counting.flushes - syncsAtStart;
    const writes = counting.writes - writesAtStart;
    expect(syncs).toBeGreaterThanOrEqual(1);
    expect(syncs).toBeLessThan(appenders / 10);
    expect(writes).toBe(syncs); // one write() per batch, and it is the batch's only flush
    expect(counting.datasyncs).toBe(datasyncsAtStart);
    expect(wal.counters).toMatchObject({ syncs, dsyncWrites: syncs, writes, requests: appenders });
    expect(syncsSeenAtResolve.every((n) => n >= 1)).toBe(true);
    await wal.close();
    const opened = await Wal.open(dir, SMALL);
    expect(indexes(opened.entries)).toEqual(makeEntries(1, appenders).map((e) => e.index));
    await opened.wal.close();
  });

  it('does not resolve an append before a flush that covers it', async () => {
    const events: string[] = [];
    const counting = countingFs();
    const watch = (file: WalFile, dsync: boolean): WalFile => ({
      write: async (...args: Parameters<WalFile['write']>) => {
        const result = await file.write(...args);
        events.push(dsync ? 'dsync-write' : 'write');
        return result;
      },
      writeSync: (...args: Parameters<WalFile['writeSync']>) => {
        const result = file.writeSync(...args);
        events.push(dsync ? 'dsync-write' : 'write');
        return result;
      },
      datasync: async () => {
        await file.datasync();
        events.push('sync');
      },
      truncate: (length: number) => file.truncate(length),
      close: () => file.close(),
    });
    const [open, openDataSync] = [counting.open, counting.openDataSync];
    counting.open = async (p, flags) => watch(await open(p, flags), false);
    counting.openDataSync = async (p) => watch(await openDataSync(p), true);
    const wal = await Wal.create(dir, METADATA, { ...SMALL, fs: counting });
    events.length = 0;
    await wal.save(null, makeEntries(1, 1)); // a plain write, not synced
    const done = [2, 3, 4].map((i) => wal.append(null, makeEntries(i, 1)).then(() => events.push(`ack${i}`)));
    await Promise.all(done);
    // Acks come in runs right after a flush, never right after a plain write.
    const withoutAcks = (upTo: number) => events.slice(0, upTo).filter((e) => !e.startsWith('ack'));
    for (const i of [2, 3, 4]) expect(['dsync-write', 'sync']).toContain(withoutAcks(events.indexOf(`ack${i}`)).at(-1));
    expect(events[0]).toBe('write');
    expect(events.filter((e) => e.endsWith('write')).length).toBeLessThanOrEqual(4);
    await wal.close();
  });

  it('save() writes without syncing; sync() makes it durable with one flush', async () => {
    const counting = countingFs();
    const wal = await Wal.create(dir, METADATA, { ...SMALL, fs: counting });
    const syncsAtStart = counting.flushes;
    for (let i = 1; i <= 20; i++) await wal.save({ term: 1, vote: 0n, commit: i }, makeEntries(i, 1));
    expect(counting.flushes).toBe(syncsAtStart);
    await wal.sync();
    expect(counting.flushes).toBe(syncsAtStart + 1);
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
