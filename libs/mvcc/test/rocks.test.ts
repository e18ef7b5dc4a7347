// Rocks.open's options: RocksDB's own WAL stays on (a batch survives a close and reopen
// without any flush to a table file) and is written uncompressed (the bytes of a value
// appear verbatim in the *.log file).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MEMTABLE_BUDGET_BYTES, Rocks } from '../src/rocks';

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

describe('Rocks.write (one reused native batch)', () => {
  it('a write that fails part-way leaves nothing behind for the next write', async () => {
    const rocks = await Rocks.open(dir);
    try {
      const broken = [
        { type: 'put' as const, key: Buffer.from('a'), value },
        { type: 'put' as const, key: Buffer.from('b'), value: undefined as unknown as Buffer },
      ];
      await expect(rocks.write(broken, false)).rejects.toThrow();
      await rocks.write([{ type: 'put', key: Buffer.from('c'), value: marker }], false);
      expect(await rocks.getMany([Buffer.from('a'), Buffer.from('b'), Buffer.from('c')])).toEqual([undefined, undefined, marker]);
    } finally {
      await rocks.close();
    }
  });

  it('keeps writing after a write large enough to replace the batch, and still closes cleanly', async () => {
    const rocks = await Rocks.open(dir);
    const big = Buffer.alloc(1024 * 1024, 0x62);
    const keys = ['b0', 'b1', 'b2', 'b3', 'b4'].map((k) => Buffer.from(k));
    await rocks.write(keys.map((key) => ({ type: 'put' as const, key, value: big })), false);
    await rocks.write([{ type: 'del', key: keys[0]! }, { type: 'put', key: Buffer.from('after'), value: marker }], false);
    expect(await rocks.getMany([keys[0]!, keys[4]!, Buffer.from('after')])).toEqual([undefined, big, marker]);
    await rocks.close();
    const reopened = await Rocks.open(dir);
    try {
      expect(await reopened.get(Buffer.from('after'))).toEqual(marker);
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

/** The options RocksDB wrote into the database's OPTIONS file (what it actually runs with). */
function persistedOptions(): Map<string, string> {
  const files = readdirSync(dir).filter((name) => name.startsWith('OPTIONS-')).sort();
  expect(files.length).toBeGreaterThan(0);
  const text = readFileSync(join(dir, files[files.length - 1]!), 'utf8');
  const options = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*([a-z0-9_]+)=(.*)$/.exec(line);
    if (match && !options.has(match[1]!)) options.set(match[1]!, match[2]!.trim());
  }
  return options;
}

describe('Rocks.open memory options', () => {
  // The binding ignores option names it does not know, so a misspelt or unread option would
  // silently leave RocksDB on its 64 MiB write buffers; the OPTIONS file shows what it uses.
  it('sizes the write buffers from the memtable budget', async () => {
    const rocks = await Rocks.open(dir);
    await rocks.close();
    const options = persistedOptions();
    expect(Number(options.get('write_buffer_size'))).toBe(MEMTABLE_BUDGET_BYTES / 4);
    expect(Number(options.get('min_write_buffer_number_to_merge'))).toBe(2);
    expect(Number(options.get('max_write_buffer_number'))).toBe(6);
    expect(options.get('compaction_style')).toBe('kCompactionStyleLevel');
    expect(options.get('wal_compression')).toBe('kNoCompression');
  });
});
