// Writer → reader round trips and the layout rules bbolt relies on.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { BoltReader, BoltWriter, checkFile, fnv1a64 } from '../src';
import { type Contents, layoutCases, writeContents } from './fixtures';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'keel-bbolt-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function readAll(path: string): Promise<{ contents: Contents; inline: Record<string, boolean> }> {
  const reader = await BoltReader.open(path);
  try {
    const contents: Contents = [];
    const inline: Record<string, boolean> = {};
    for await (const { name, bucket } of reader.buckets()) {
      const entries: Array<[Buffer, Buffer]> = [];
      for await (const entry of reader.entries(bucket)) entries.push([Buffer.from(entry.key), Buffer.from(entry.value)]);
      contents.push({ name: name.toString(), entries });
      inline[name.toString()] = bucket.root === 0;
    }
    return { contents, inline };
  } finally {
    await reader.close();
  }
}

describe('fnv1a64', () => {
  it('matches the published FNV-1a 64 test vectors', () => {
    expect(fnv1a64(Buffer.alloc(0))).toBe(0xcbf29ce484222325n);
    expect(fnv1a64(Buffer.from('a'))).toBe(0xaf63dc4c8601ec8cn);
    expect(fnv1a64(Buffer.from('foobar'))).toBe(0x85944171f73967e8n);
  });
});

describe('BoltWriter and BoltReader', () => {
  it('round-trips every layout case and passes the structural check', async () => {
    const path = join(dir, 'cases.db');
    const contents = layoutCases();
    const summary = await writeContents(path, contents);
    expect(statSync(path).size).toBe(summary.pages * 4096);
    expect(summary.entries).toBe(contents.reduce((n, b) => n + b.entries.length, 0));
    const back = await readAll(path);
    expect(back.contents).toEqual(contents);
    expect(back.inline).toEqual({ 'a-empty': true, 'b-small': true, 'c-many': false, 'd-big': false, 'e-longkeys': false });
    const report = await checkFile(path);
    expect(report.errors).toEqual([]);
    expect(report).toMatchObject({ pages: summary.pages, buckets: 5, entries: summary.entries });
  });

  it('builds a multi-level tree of nearly full pages for a large bucket', async () => {
    const path = join(dir, 'levels.db');
    const contents = layoutCases().filter((b) => b.name === 'c-many');
    const summary = await writeContents(path, contents);
    const reader = await BoltReader.open(path);
    try {
      const bucket = (await reader.bucket(Buffer.from('c-many')))!;
      // Follow the leftmost path down: branch, branch, leaf.
      const kinds: number[] = [];
      let id = bucket.root;
      for (;;) {
        const { header, page } = await reader.readPage(id);
        kinds.push(header.flags);
        if (header.flags === 0x02) break;
        id = Number(page.readBigUInt64LE(16 + 8));
      }
      expect(kinds).toEqual([0x01, 0x01, 0x02]);
    } finally {
      await reader.close();
    }
    // Pages are filled: the file is within 5% of the leaf bytes' page count plus the fixed pages.
    const leafBytes = contents[0]!.entries.reduce((n, [k, v]) => n + 16 + k.length + v.length, 0);
    expect(summary.pages).toBeLessThan(Math.ceil((leafBytes / (4096 - 16)) * 1.05) + 10);
  });

  it('stores a bucket inline exactly while its leaf is at most a quarter page', async () => {
    // Leaf = 16-byte header + per entry 16 + key + value. 1024 bytes fits, 1025 does not.
    const fits = join(dir, 'fits.db');
    const over = join(dir, 'over.db');
    const value = (bytes: number) => Buffer.alloc(bytes - 16 - 16 - 1, 7);
    await writeContents(fits, [{ name: 'b', entries: [[Buffer.from('k'), value(1024)]] }]);
    await writeContents(over, [{ name: 'b', entries: [[Buffer.from('k'), value(1025)]] }]);
    expect((await readAll(fits)).inline).toEqual({ b: true });
    expect((await readAll(over)).inline).toEqual({ b: false });
  });

  it('writes an empty database that still has a root leaf, freelist and two metas', async () => {
    const path = join(dir, 'empty.db');
    const summary = await writeContents(path, []);
    expect(summary.pages).toBe(4);
    expect((await readAll(path)).contents).toEqual([]);
    expect((await checkFile(path)).errors).toEqual([]);
  });

  it('refuses keys or bucket names out of order, and empty keys', async () => {
    const writer = await BoltWriter.create(join(dir, 'order.db'));
    const bucket = await writer.bucket(Buffer.from('m'));
    await bucket.put(Buffer.from('b'), Buffer.from('1'));
    await expect(bucket.put(Buffer.from('b'), Buffer.from('2'))).rejects.toThrow(/increasing/);
    await expect(bucket.put(Buffer.from('a'), Buffer.from('2'))).rejects.toThrow(/increasing/);
    await expect(bucket.put(Buffer.alloc(0), Buffer.from('2'))).rejects.toThrow(/key length/);
    await bucket.end();
    await expect(writer.bucket(Buffer.from('a'))).rejects.toThrow(/name order/);
    await writer.abort();
  });

  it('falls back to the other meta when one is corrupt, and refuses a file with neither', async () => {
    const path = join(dir, 'meta.db');
    await writeContents(path, [{ name: 'b', entries: [[Buffer.from('k'), Buffer.from('v')]] }]);
    const bytes = readFileSync(path);
    bytes[4096 + 16 + 40]! ^= 0xff; // meta 1's high-water mark: its checksum no longer matches
    writeFileSync(path, bytes);
    const reader = await BoltReader.open(path);
    expect(reader.meta.txid).toBe(0n); // meta 0 is the one left
    await reader.close();
    expect((await readAll(path)).contents).toEqual([{ name: 'b', entries: [[Buffer.from('k'), Buffer.from('v')]] }]);
    bytes[16 + 40]! ^= 0xff;
    writeFileSync(path, bytes);
    await expect(BoltReader.open(path)).rejects.toThrow(/checksum/);
  });

  it('round-trips arbitrary sorted contents (property)', async () => {
    const bucketArb = fc.uniqueArray(fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.uint8Array({ maxLength: 3000 })), {
      maxLength: 60,
      selector: ([key]) => Buffer.from(key).toString('hex'),
    });
    const path = join(dir, 'prop.db');
    await fc.assert(
      fc.asyncProperty(fc.array(bucketArb, { maxLength: 4 }), async (buckets) => {
        const contents: Contents = buckets.map((entries, i) => ({
          name: `bucket-${i}`,
          entries: entries.map(([k, v]) => [Buffer.from(k), Buffer.from(v)] as [Buffer, Buffer]).sort(([a], [b]) => Buffer.compare(a, b)),
        }));
        await writeContents(path, contents);
        expect((await readAll(path)).contents).toEqual(contents);
        expect((await checkFile(path)).errors).toEqual([]);
      }),
      { numRuns: 40 },
    );
  });
});
