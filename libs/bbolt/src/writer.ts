// Writes a compact bbolt database from top-level buckets given in name order, each with its
// entries in key order. The file is written front to back (page-sink.ts) with memory bounded
// by a few pages per open tree, so a store of any size can be written.
//
// Layout of the result: pages 0 and 1 are metas, page 2 an empty freelist (the file has no
// free pages), then the buckets' pages in the order written, the root bucket's pages last.
// A bucket whose leaf fits in a quarter page is stored inline in the root bucket, as bbolt
// stores small buckets; a larger one gets its own tree. Nested buckets are not supported.
//
// Usage:
//   const writer = await BoltWriter.create(path);
//   const bucket = await writer.bucket(Buffer.from('key'));
//   await bucket.put(k, v); ...
//   await bucket.end();
//   await writer.finish();     // or abort() to close and delete the partial file
import assert from 'node:assert/strict';
import { open, rm, type FileHandle } from 'node:fs/promises';
import {
  BUCKET_HEADER_BYTES,
  BUCKET_LEAF_FLAG,
  DEFAULT_PAGE_SIZE,
  MAX_KEY_BYTES,
  MAX_VALUE_BYTES,
  PAGE_HEADER_BYTES,
  PageFlag,
  compareKeys,
  encodeMetaPage,
  writePageHeader,
} from './layout';
import { type LeafEntry, encodeLeaf, leafElementBytes } from './nodes';
import { PageSink } from './page-sink';
import { TreeBuilder } from './tree-builder';

const META_PAGES = [0, 1] as const;
const FREELIST_PAGE = 2;
const FIRST_DATA_PAGE = 3;

export interface WriterOptions {
  /** Page size in bytes (default 4096, what etcd uses on x86-64). */
  pageSize?: number;
  /**
   * Transaction id recorded in the metas: meta page 0 gets txid, page 1 txid + 1 (bbolt writes a
   * transaction's meta to page txid % 2, so txid must be even). Default 0, as a new bbolt file.
   */
  txid?: bigint;
}

export interface WriteSummary {
  /** Pages in the file; the file is pages * pageSize bytes. */
  pages: number;
  bytes: number;
  pageSize: number;
  buckets: number;
  entries: number;
}

/** One top-level bucket being written. */
export interface BucketWriter {
  /** Adds the next key/value; keys strictly increasing, never empty. */
  put(key: Uint8Array, value: Uint8Array): Promise<void>;
  /** Closes the bucket (required before the next bucket or finish). */
  end(): Promise<void>;
}

export class BoltWriter {
  private readonly rootEntries: LeafEntry[] = [];
  private lastBucketName: Buffer | undefined;
  private open: OpenBucket | undefined;
  private entries = 0;
  private done = false;

  private constructor(
    private readonly file: FileHandle,
    private readonly path: string,
    private readonly sink: PageSink,
    private readonly txid: bigint,
  ) {}

  /** Creates (or truncates) `path` for writing, readable by its owner only (it holds all the data). */
  static async create(path: string, options: WriterOptions = {}): Promise<BoltWriter> {
    const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    assert.ok(Number.isInteger(pageSize) && pageSize >= 1024 && (pageSize & (pageSize - 1)) === 0, 'page size must be a power of two >= 1024');
    const txid = options.txid ?? 0n;
    assert.ok(txid >= 0n && txid % 2n === 0n, 'txid must be even');
    const file = await open(path, 'w+', 0o600);
    return new BoltWriter(file, path, new PageSink(file, pageSize, FIRST_DATA_PAGE), txid);
  }

  /** Starts the next top-level bucket; names strictly increasing, never empty. */
  async bucket(name: Uint8Array): Promise<BucketWriter> {
    assert.ok(!this.done, 'writer finished');
    assert.ok(this.open === undefined, 'previous bucket not ended');
    const key = Buffer.from(name);
    assert.ok(key.length > 0 && key.length <= MAX_KEY_BYTES, 'bad bucket name length');
    assert.ok(this.lastBucketName === undefined || compareKeys(this.lastBucketName, key) < 0, 'buckets must be written in name order');
    this.lastBucketName = key;
    const bucket = new OpenBucket(this.sink, (value) => {
      this.rootEntries.push({ key, value, flags: BUCKET_LEAF_FLAG });
      this.entries += bucket.count;
      this.open = undefined;
    });
    this.open = bucket;
    return bucket;
  }

  /** Writes the root bucket, freelist and metas, syncs and closes the file. */
  async finish(): Promise<WriteSummary> {
    assert.ok(!this.done, 'writer finished');
    assert.ok(this.open === undefined, 'last bucket not ended');
    this.done = true;
    try {
      const root = new TreeBuilder(this.sink);
      for (const entry of this.rootEntries) await root.add(entry);
      const { root: rootPage } = await root.finish();
      await this.sink.flush();
      const pageSize = this.sink.pageSize;
      const pages = this.sink.nextId;
      await this.sink.writeAt(FREELIST_PAGE, emptyFreelistPage(pageSize));
      // Data before metas: a reader that sees a valid meta finds every page it names.
      await this.file.sync();
      for (const id of META_PAGES) {
        const meta = { pageSize, flags: 0, root: rootPage, rootSequence: 0n, freelist: FREELIST_PAGE, pgid: pages, txid: this.txid + BigInt(id) };
        await this.sink.writeAt(id, encodeMetaPage(meta, id));
      }
      await this.file.sync();
      return { pages, bytes: pages * pageSize, pageSize, buckets: this.rootEntries.length, entries: this.entries };
    } finally {
      await this.file.close();
    }
  }

  /** Closes and deletes a partly written file. */
  async abort(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.file.close();
    }
    await rm(this.path, { force: true });
  }
}

function emptyFreelistPage(pageSize: number): Buffer {
  const page = Buffer.alloc(pageSize);
  writePageHeader(page, { id: FREELIST_PAGE, flags: PageFlag.freelist, count: 0, overflow: 0 });
  return page;
}

/**
 * Collects a bucket's entries while they could still be stored inline; past that size it
 * moves them into a TreeBuilder and streams the rest.
 */
class OpenBucket implements BucketWriter {
  private inline: LeafEntry[] | undefined = [];
  private inlineBytes = PAGE_HEADER_BYTES;
  private tree: TreeBuilder | undefined;
  private lastKey: Buffer | undefined;
  count = 0;
  private ended = false;

  constructor(
    private readonly sink: PageSink,
    private readonly onEnd: (bucketValue: Buffer) => void,
  ) {}

  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    assert.ok(!this.ended, 'bucket ended');
    assert.ok(key.length > 0 && key.length <= MAX_KEY_BYTES, `bad key length ${key.length}`);
    assert.ok(value.length <= MAX_VALUE_BYTES, 'value too large');
    const entry: LeafEntry = { key: toBuffer(key), value: toBuffer(value), flags: 0 };
    assert.ok(this.lastKey === undefined || compareKeys(this.lastKey, entry.key) < 0, 'keys must be put in strictly increasing order');
    this.lastKey = entry.key;
    this.count++;
    if (this.tree !== undefined) return this.tree.add(entry);
    this.inline!.push(entry);
    this.inlineBytes += leafElementBytes(entry);
    // bbolt inlines a bucket while its single leaf is at most a quarter page.
    if (this.inlineBytes > this.sink.pageSize / 4) await this.spill();
  }

  async end(): Promise<void> {
    assert.ok(!this.ended, 'bucket ended twice');
    this.ended = true;
    if (this.tree === undefined) {
      const header = Buffer.alloc(BUCKET_HEADER_BYTES); // root 0 = inline, sequence 0
      this.onEnd(Buffer.concat([header, encodeLeaf(0, this.inline!)]));
      return;
    }
    const { root } = await this.tree.finish();
    const header = Buffer.alloc(BUCKET_HEADER_BYTES);
    header.writeBigUInt64LE(BigInt(root), 0);
    this.onEnd(header);
  }

  private async spill(): Promise<void> {
    const tree = new TreeBuilder(this.sink);
    for (const entry of this.inline!) await tree.add(entry);
    this.inline = undefined;
    this.tree = tree;
  }
}

/** Keys and values are kept until their page is written: copy what the caller may reuse. */
function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes);
}
