// Hands out page ids in increasing order and writes pages in that same order, so the file
// grows strictly front to back through one bounded buffer. Pages below `firstId` are
// reserved (metas, freelist) and written in place at the end with writeAt().
//
// Invariant: every id in [firstId, nextId) has been appended exactly once, and bytes for
// id n are at file offset n * pageSize once flushed.
import assert from 'node:assert/strict';
import type { FileHandle } from 'node:fs/promises';

/** Bytes collected before one write call (bounded memory, few syscalls). */
const FLUSH_BYTES = 1 << 20;

export class PageSink {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private nextPage: number;
  private flushedPages: number;

  constructor(
    private readonly file: FileHandle,
    readonly pageSize: number,
    firstId: number,
  ) {
    this.nextPage = firstId;
    this.flushedPages = firstId;
  }

  /** The id the next appended page gets. */
  get nextId(): number {
    return this.nextPage;
  }

  /** Appends one node (whole pages, its header already carrying `nextId`); returns its id. */
  async append(node: Buffer): Promise<number> {
    assert.ok(node.length > 0 && node.length % this.pageSize === 0, 'a node is whole pages');
    assert.equal(node.readBigUInt64LE(0), BigInt(this.nextPage), 'node written out of order');
    const id = this.nextPage;
    this.nextPage += node.length / this.pageSize;
    this.pending.push(node);
    this.pendingBytes += node.length;
    if (this.pendingBytes >= FLUSH_BYTES) await this.flush();
    return id;
  }

  async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const chunk = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    const position = this.flushedPages * this.pageSize;
    this.pending = [];
    this.pendingBytes = 0;
    await writeFully(this.file, chunk, position);
    this.flushedPages += chunk.length / this.pageSize;
  }

  /** Writes a reserved page (below the first appended id). */
  async writeAt(id: number, page: Buffer): Promise<void> {
    assert.ok(page.length === this.pageSize, 'reserved pages are single pages');
    await writeFully(this.file, page, id * this.pageSize);
  }
}

async function writeFully(file: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await file.write(bytes, done, bytes.length - done, position + done);
    assert.ok(bytesWritten > 0, 'short write');
    done += bytesWritten;
  }
}
