// A structural check of a bbolt file, in the spirit of bbolt's tx.Check and a little stricter:
// every page below the high-water mark is referenced exactly once (by a meta, the freelist,
// or one bucket tree) or listed free; trees hold only branch and leaf pages; keys increase
// strictly within and across pages; each branch key is the first key of its child.
import { type BucketRef, BoltReader, bucketRefOf } from './reader';
import { BUCKET_LEAF_FLAG, PageFlag, compareKeys } from './layout';
import { decodeBranch, decodeLeaf } from './nodes';

export interface CheckReport {
  errors: string[];
  pages: number;
  buckets: number;
  entries: number;
}

export async function checkFile(path: string): Promise<CheckReport> {
  const reader = await BoltReader.open(path);
  try {
    return await new Checker(reader).run();
  } finally {
    await reader.close();
  }
}

class Checker {
  private readonly errors: string[] = [];
  private readonly owner = new Map<number, string>();
  private buckets = 0;
  private entries = 0;

  constructor(private readonly reader: BoltReader) {}

  async run(): Promise<CheckReport> {
    const { meta } = this.reader;
    this.claim(0, 'meta');
    this.claim(1, 'meta');
    if (meta.freelist !== undefined) {
      const { header } = await this.reader.readPage(meta.freelist);
      for (let i = 0; i <= header.overflow; i++) this.claim(meta.freelist + i, 'freelist');
      for (const id of await this.reader.freePages()) this.claim(id, 'free');
    }
    await this.checkBucket(this.reader.rootBucket(), 'root');
    for (let id = 0; id < meta.pgid; id++) if (!this.owner.has(id)) this.errors.push(`page ${id}: unreachable and not free`);
    if (this.reader.fileBytes < meta.pgid * meta.pageSize) this.errors.push(`file is shorter than ${meta.pgid} pages`);
    return { errors: this.errors, pages: meta.pgid, buckets: this.buckets, entries: this.entries };
  }

  private claim(id: number, by: string): void {
    const previous = this.owner.get(id);
    if (previous !== undefined) this.errors.push(`page ${id}: referenced by ${previous} and ${by}`);
    else this.owner.set(id, by);
  }

  private async checkBucket(bucket: BucketRef, name: string): Promise<void> {
    const nested: Array<{ name: string; bucket: BucketRef }> = [];
    let last: Buffer | undefined;
    const visitLeaf = (page: Buffer): void => {
      for (const element of decodeLeaf(page)) {
        if (last !== undefined && compareKeys(last, element.key) >= 0) this.errors.push(`bucket ${name}: keys out of order at ${element.key.toString('hex')}`);
        last = element.key;
        if ((element.flags & BUCKET_LEAF_FLAG) !== 0) {
          nested.push({ name: `${name}/${element.key.toString('hex')}`, bucket: bucketRefOf(element.value) });
        } else this.entries++;
      }
    };
    if (bucket.root === 0) visitLeaf(bucket.inlinePage!);
    else await this.visitTree(bucket.root, name, visitLeaf, undefined);
    if (name !== 'root') this.buckets++;
    for (const child of nested) await this.checkBucket(child.bucket, child.name);
  }

  private async visitTree(id: number, name: string, visitLeaf: (page: Buffer) => void, expectedFirst: Buffer | undefined): Promise<void> {
    if (id >= this.reader.meta.pgid) {
      this.errors.push(`bucket ${name}: page ${id} out of bounds`);
      return;
    }
    const { header, page } = await this.reader.readPage(id);
    for (let i = 0; i <= header.overflow; i++) this.claim(id + i, `bucket ${name}`);
    if ((header.flags & PageFlag.leaf) !== 0) {
      const first = decodeLeaf(page)[0]?.key;
      if (expectedFirst !== undefined && (first === undefined || !first.equals(expectedFirst))) this.errors.push(`page ${id}: first key differs from its branch key`);
      visitLeaf(page);
    } else if ((header.flags & PageFlag.branch) !== 0) {
      const children = decodeBranch(page);
      if (children.length === 0) this.errors.push(`page ${id}: empty branch`);
      if (expectedFirst !== undefined && !children[0]?.key.equals(expectedFirst)) this.errors.push(`page ${id}: first key differs from its branch key`);
      for (const child of children) await this.visitTree(child.child, name, visitLeaf, child.key);
    } else {
      this.errors.push(`page ${id}: invalid type in bucket ${name} (flags ${header.flags})`);
    }
  }
}
