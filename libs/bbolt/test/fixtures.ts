// Database contents shared by the tests: buckets that exercise every layout case.
import { BoltWriter, type WriteSummary } from '../src';

export type Contents = Array<{ name: string; entries: Array<[Buffer, Buffer]> }>;

/** A deterministic byte pattern (so tests need no randomness to be varied). */
export function pattern(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function revisionKey(main: number): Buffer {
  const key = Buffer.alloc(17);
  key.writeBigUInt64BE(BigInt(main), 0);
  key[8] = 0x5f;
  return key;
}

/**
 * - 'a-empty': an empty inline bucket
 * - 'b-small': a few entries (inline)
 * - 'c-many': 10,000 revision-like keys (leaves and two branch levels)
 * - 'd-big': values bigger than a page (overflow pages) between small ones
 * - 'e-longkeys': 3 KiB keys (branch pages that hold few keys)
 */
export function layoutCases(): Contents {
  const many: Array<[Buffer, Buffer]> = [];
  for (let i = 1; i <= 10_000; i++) many.push([revisionKey(i), pattern(20 + (i % 50), i)]);
  const big: Array<[Buffer, Buffer]> = [
    [Buffer.from('k1'), Buffer.from('small')],
    [Buffer.from('k2'), pattern(100_000, 2)],
    [Buffer.from('k3'), Buffer.alloc(0)],
    [Buffer.from('k4'), pattern(4096, 4)],
    [Buffer.from('k5'), pattern(4080, 5)],
  ];
  const longKeys: Array<[Buffer, Buffer]> = [];
  for (let i = 0; i < 40; i++) longKeys.push([Buffer.concat([Buffer.from([i]), pattern(3000, i)]), Buffer.from(`v${i}`)]);
  return [
    { name: 'a-empty', entries: [] },
    { name: 'b-small', entries: [[Buffer.from('x'), Buffer.from('1')], [Buffer.from('y'), Buffer.from('')]] },
    { name: 'c-many', entries: many },
    { name: 'd-big', entries: big },
    { name: 'e-longkeys', entries: longKeys },
  ];
}

export async function writeContents(path: string, contents: Contents): Promise<WriteSummary> {
  const writer = await BoltWriter.create(path);
  for (const { name, entries } of contents) {
    const bucket = await writer.bucket(Buffer.from(name));
    for (const [key, value] of entries) await bucket.put(key, value);
    await bucket.end();
  }
  return writer.finish();
}
