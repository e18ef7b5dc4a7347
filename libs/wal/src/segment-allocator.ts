// Prepares the next segment file in the background, so a cut does not wait for
// preallocation. A spare is a file of segmentBytes zeros written for real (not a sparse
// ftruncate): its blocks are reserved before the segment is needed, and appends never make
// fdatasync commit a block allocation too (FORMAT.md, "Preallocation", for why and what
// was measured). Writing 64 MiB of zeros per segment is I/O we keep off the hot path.
import path from 'node:path';
import { writeFully, type WalFile, type WalFileSystem } from './fs';

const ZERO_CHUNK_BYTES = 1024 * 1024;
export const SPARE_PREFIX = 'spare-';

export interface AllocatorConfig {
  fs: WalFileSystem;
  dir: string;
  segmentBytes: number;
}

export interface SpareFile {
  path: string;
  file: WalFile;
}

/** Writes segmentBytes of zeros into an open file and syncs it. */
export async function fillWithZeros(file: WalFile, segmentBytes: number): Promise<void> {
  const zeros = new Uint8Array(Math.min(ZERO_CHUNK_BYTES, segmentBytes));
  for (let at = 0; at < segmentBytes; at += zeros.length) {
    await writeFully(file, zeros, Math.min(zeros.length, segmentBytes - at), at);
  }
  await file.datasync();
}

export class SegmentAllocator {
  private next: Promise<SpareFile> | undefined;
  private counter = 0;

  constructor(private readonly config: AllocatorConfig) {}

  /** Starts preparing a spare if none is being prepared. */
  prepare(): void {
    if (this.next) return;
    const next = this.allocate();
    next.catch(() => undefined); // reported to whoever takes it
    this.next = next;
  }

  /** The prepared spare (waiting for it if needed); starts no new one. */
  async take(): Promise<SpareFile> {
    this.prepare();
    const spare = this.next!;
    this.next = undefined;
    return spare;
  }

  /** Waits for any spare in preparation and deletes it. */
  async dispose(): Promise<void> {
    const pending = this.next;
    this.next = undefined;
    if (!pending) return;
    const spare = await pending.catch(() => undefined);
    if (!spare) return;
    await spare.file.close();
    await this.config.fs.unlink(spare.path);
  }

  private async allocate(): Promise<SpareFile> {
    const { fs, dir, segmentBytes } = this.config;
    // A name that cannot collide with a segment name; open removes leftovers (*.wal.tmp).
    const sparePath = path.join(dir, `${SPARE_PREFIX}${process.pid}-${this.counter++}.wal.tmp`);
    const file = await fs.open(sparePath, 'w+');
    try {
      await fillWithZeros(file, segmentBytes);
    } catch (err) {
      await file.close();
      throw err;
    }
    return { path: sparePath, file };
  }
}
