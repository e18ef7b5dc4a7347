// Reads a bbolt file: picks the valid meta with the highest txid, then walks buckets and
// their trees page by page with positional reads (nothing is mapped or read whole, so a
// file of any size can be read with bounded memory).
import assert from 'node:assert/strict';
import { open, type FileHandle } from 'node:fs/promises';
import {
  BUCKET_HEADER_BYTES,
  BUCKET_LEAF_FLAG,
  DEFAULT_PAGE_SIZE,
  type Meta,
  type PageHeader,
  PageFlag,
  decodeMetaPage,
  readPageHeader,
  safeNumber,
} from './layout';
import { decodeBranch, decodeLeaf } from './nodes';

/** Where a bucket's tree lives: a root page, or the leaf page stored in its parent's value. */
export interface BucketRef {
  root: number;
  sequence: bigint;
  /** The inline leaf page, when root is 0. */
  inlinePage?: Buffer;
}

export interface Entry {
  key: Buffer;
  /** The value; for a nested bucket, its 16-byte header (and inline page). */
  value: Buffer;
  /** Set when the value is a nested bucket. */
  bucket?: BucketRef;
}

export class BoltReader {
  private constructor(
    private readonly file: FileHandle,
    readonly meta: Meta,
    readonly fileBytes: number,
  ) {}

  static async open(path: string): Promise<BoltReader> {
    const file = await open(path, 'r');
    try {
      const { size } = await file.stat();
      if (size < 2 * 1024) throw new Error('bbolt: file size too small');
      const meta = await pickMeta(file);
      return new BoltReader(file, meta, size);
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  get pageSize(): number {
    return this.meta.pageSize;
  }

  /** The root bucket (holding the top-level buckets). */
  rootBucket(): BucketRef {
    return { root: this.meta.root, sequence: this.meta.rootSequence };
  }

  /** Top-level buckets by name, in name order. */
  async *buckets(): AsyncGenerator<{ name: Buffer; bucket: BucketRef }> {
    for await (const entry of this.entries(this.rootBucket())) {
      if (entry.bucket !== undefined) yield { name: entry.key, bucket: entry.bucket };
    }
  }

  async bucket(name: Uint8Array): Promise<BucketRef | undefined> {
    for await (const found of this.buckets()) if (found.name.equals(name)) return found.bucket;
    return undefined;
  }

  /** Every entry of a bucket in key order (depth-first over its tree). */
  async *entries(bucket: BucketRef): AsyncGenerator<Entry> {
    if (bucket.root === 0) {
      assert.ok(bucket.inlinePage !== undefined, 'inline bucket without its page');
      yield* leafEntries(bucket.inlinePage);
      return;
    }
    yield* this.walk(bucket.root);
  }

  /** Reads one node: its first page, then the overflow pages it runs into. */
  async readPage(id: number): Promise<{ header: PageHeader; page: Buffer }> {
    assert.ok(id >= 0 && id < this.meta.pgid, `page ${id} out of bounds (high-water mark ${this.meta.pgid})`);
    const first = await readExactly(this.file, id * this.pageSize, this.pageSize);
    const header = readPageHeader(first);
    assert.equal(header.id, id, `page ${id} carries id ${header.id}`);
    if (header.overflow === 0) return { header, page: first };
    assert.ok(id + header.overflow < this.meta.pgid, `page ${id} overflows past the high-water mark`);
    const rest = await readExactly(this.file, (id + 1) * this.pageSize, header.overflow * this.pageSize);
    return { header, page: Buffer.concat([first, rest]) };
  }

  /** Page ids listed in the freelist page. */
  async freePages(): Promise<number[]> {
    if (this.meta.freelist === undefined) return [];
    const { header, page } = await this.readPage(this.meta.freelist);
    assert.ok((header.flags & PageFlag.freelist) !== 0, `page ${header.id} is not a freelist`);
    let at = 16;
    let count = header.count;
    if (count === 0xffff) {
      count = safeNumber(page.readBigUInt64LE(at), 'freelist count');
      at += 8;
    }
    const ids: number[] = [];
    for (let i = 0; i < count; i++) ids.push(safeNumber(page.readBigUInt64LE(at + 8 * i), 'free page'));
    return ids;
  }

  async close(): Promise<void> {
    await this.file.close();
  }

  private async *walk(id: number): AsyncGenerator<Entry> {
    const { header, page } = await this.readPage(id);
    if ((header.flags & PageFlag.leaf) !== 0) {
      yield* leafEntries(page);
      return;
    }
    assert.ok((header.flags & PageFlag.branch) !== 0, `page ${id} is neither branch nor leaf`);
    for (const child of decodeBranch(page)) yield* this.walk(child.child);
  }
}

function* leafEntries(page: Buffer): Generator<Entry> {
  for (const element of decodeLeaf(page)) {
    const entry: Entry = { key: element.key, value: element.value };
    if ((element.flags & BUCKET_LEAF_FLAG) !== 0) entry.bucket = bucketRefOf(element.value);
    yield entry;
  }
}

/** Decodes a bucket header value (and its inline page). */
export function bucketRefOf(value: Buffer): BucketRef {
  assert.ok(value.length >= BUCKET_HEADER_BYTES, 'bucket header truncated');
  const root = safeNumber(value.readBigUInt64LE(0), 'bucket root');
  const ref: BucketRef = { root, sequence: value.readBigUInt64LE(8) };
  if (root === 0) ref.inlinePage = value.subarray(BUCKET_HEADER_BYTES);
  return ref;
}

async function pickMeta(file: FileHandle): Promise<Meta> {
  const candidates: Meta[] = [];
  const errors: string[] = [];
  const first = await tryMeta(file, 0, errors);
  if (first !== undefined) candidates.push(first);
  // Meta 1 sits one page in; trust meta 0's page size when it is valid.
  const second = await tryMeta(file, first?.pageSize ?? DEFAULT_PAGE_SIZE, errors);
  if (second !== undefined) candidates.push(second);
  if (candidates.length === 0) throw new Error(errors[0] ?? 'bbolt: invalid database');
  return candidates.reduce((best, meta) => (meta.txid > best.txid ? meta : best));
}

async function tryMeta(file: FileHandle, offset: number, errors: string[]): Promise<Meta | undefined> {
  try {
    const meta = decodeMetaPage(await readExactly(file, offset, 1024));
    assert.ok(meta.pageSize >= 1024 && (meta.pageSize & (meta.pageSize - 1)) === 0, `bbolt: bad page size ${meta.pageSize}`);
    return meta;
  } catch (error) {
    errors.push(error instanceof Error ? error.message : String(error));
    return undefined;
  }
}

async function readExactly(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const out = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await file.read(out, done, length - done, position + done);
    if (bytesRead === 0) throw new Error(`bbolt: file ends at ${position + done}, wanted ${length} bytes at ${position}`);
    done += bytesRead;
  }
  return out;
}
