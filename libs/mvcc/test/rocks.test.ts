// Rocks.open's options: RocksDB's own WAL stays on (a batch survives a close and reopen
// without any flush to a table file) and is written uncompressed (the bytes of a value
// appear verbatim in the *.log file).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rocks } from '../src/rocks';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keel-rocks-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A value zstd would shrink to a few bytes, with a marker that is easy to find. */
const marker = Buffer.from('keel-rocks-wal-marker');
const value = Buffer.concat([marker, Buffer.alloc(400, 0x61)]);

function walBytes(): Buffer {
  const logs = readdirSync(dir).filter((name) => name.endsWith('.log'));
  expect(logs.length).toBeGreaterThan(0);
  return Buffer.concat(logs.map((name) => readFileSync(join(dir, name))));
}

describe('Rocks.open', () => {
  it('writes batches to an uncompressed RocksDB WAL', async () => {
    const rocks = await Rocks.open(dir);
    try {
      await rocks.write([{ type: 'put', key: Buffer.from('k'), value }], false);
      const log = walBytes();
      expect(log.includes(value)).toBe(true);
      expect(log.length).toBeGreaterThanOrEqual(value.length);
    } finally {
      await rocks.close();
    }
  });

  it('recovers an unflushed batch from its WAL after reopening', async () => {
    const first = await Rocks.open(dir);
    await first.write(
      [
        { type: 'put', key: Buffer.from('a'), value },
        { type: 'put', key: Buffer.from('b'), value: marker },
      ],
      false,
    );
    expect(first.numericProperty('rocksdb.num-immutable-mem-table-flushed')).toBe(0);
    await first.close();
    const tablesBefore = readdirSync(dir).filter((name) => name.endsWith('.sst'));
    expect(tablesBefore).toEqual([]); // nothing was flushed: only the WAL holds the batch
    const reopened = await Rocks.open(dir);
    try {
      expect(await reopened.getMany([Buffer.from('a'), Buffer.from('b'), Buffer.from('c')])).toEqual([value, marker, undefined]);
    } finally {
      await reopened.close();
    }
  });
});

describe('Rocks.sync', () => {
  it('writes a record to the RocksDB WAL (which it then fdatasyncs) and keeps the data readable', async () => {
    const rocks = await Rocks.open(dir);
    try {
      await rocks.write([{ type: 'put', key: Buffer.from('k'), value }], false);
      const before = walBytes().length;
      rocks.sync();
      expect(walBytes().length).toBeGreaterThan(before);
      expect(await rocks.get(Buffer.from('k'))).toEqual(value);
    } finally {
      await rocks.close();
    }
  });
});
