import { writeInteger, writeString } from './primitives';
import { staticTable } from './static-table';

const entryOverheadBytes = 32;
/** Largest dynamic table this encoder will use, whatever the peer allows (RFC 7541 §4.2). */
const ownTableLimitBytes = 4096;

/** Decides which fields go into the dynamic table; the rest are sent "without indexing". */
export type IndexPolicy = (name: string, value: string) => boolean;

interface Entry {
  readonly key: string;
  readonly name: string;
  readonly size: number;
  /** Insertion number: the newest entry has the highest, and dynamic index 1. */
  readonly seq: number;
}

/**
 * HPACK encoder with a dynamic table (RFC 7541 §2.3.2), one per connection direction. Fields
 * the policy accepts are sent "with incremental indexing" the first time and as a one-byte
 * index afterwards; strings are never Huffman-coded (cheaper to write, a few bytes longer).
 *
 * Invariant: `entries` mirrors the peer decoder's table exactly: every block this encoder
 * returns must reach the peer, in order (a block that is dropped desynchronises the tables).
 */
export class HpackEncoder {
  private readonly entries: Entry[] = []; // oldest first
  private readonly byField = new Map<string, number>();
  private readonly byName = new Map<string, number>();
  private tableBytes = 0;
  private insertedCount = 0;
  private maxTableBytes: number;
  /** Table size updates owed at the start of the next block: [smallest, final]. */
  private pendingSizeUpdate: [number, number] | undefined;
  private changes = 0;

  constructor(
    private readonly indexPolicy: IndexPolicy = () => true,
    peerTableLimitBytes = 4096,
  ) {
    this.maxTableBytes = Math.min(peerTableLimitBytes, ownTableLimitBytes);
    if (this.maxTableBytes !== 4096) this.pendingSizeUpdate = [this.maxTableBytes, this.maxTableBytes];
  }

  /** Applies the peer's SETTINGS_HEADER_TABLE_SIZE; the change is signalled in the next block. */
  setPeerTableLimit(peerTableLimitBytes: number): void {
    const next = Math.min(peerTableLimitBytes, ownTableLimitBytes);
    if (next === this.maxTableBytes) return;
    this.maxTableBytes = next;
    this.changes++;
    this.evictTo(next);
    const smallest = Math.min(this.pendingSizeUpdate?.[0] ?? next, next);
    this.pendingSizeUpdate = [smallest, next];
  }

  encode(headers: readonly (readonly [string, string])[]): Buffer {
    const out: number[] = [];
    if (this.pendingSizeUpdate !== undefined) {
      const [smallest, final] = this.pendingSizeUpdate;
      if (smallest !== final) writeInteger(out, smallest, 5, 0x20);
      writeInteger(out, final, 5, 0x20);
      this.pendingSizeUpdate = undefined;
      this.changes++;
    }
    for (const [name, value] of headers) this.encodeField(out, name, value);
    return Buffer.from(out);
  }

  /**
   * Changes whenever the table (or a pending size update) changes. A block encoded without
   * changing it encodes the same fields identically for as long as it stays the same, so
   * callers may reuse such a block.
   */
  get generation(): number {
    return this.changes;
  }

  /** Entries currently in the dynamic table (for tests and diagnostics). */
  get dynamicEntryCount(): number {
    return this.entries.length;
  }

  private encodeField(out: number[], name: string, value: string): void {
    const key = name + '\0' + value;
    const exact = staticExactIndex.get(key) ?? this.dynamicIndex(this.byField.get(key));
    if (exact !== undefined) {
      writeInteger(out, exact, 7, 0x80);
      return;
    }
    const nameIndex = staticNameIndex.get(name) ?? this.dynamicIndex(this.byName.get(name));
    const size = name.length + value.length + entryOverheadBytes;
    const indexed = size <= this.maxTableBytes && this.indexPolicy(name, value);
    if (indexed) writeInteger(out, nameIndex ?? 0, 6, 0x40);
    else writeInteger(out, nameIndex ?? 0, 4, 0x00);
    if (nameIndex === undefined) writeString(out, name);
    writeString(out, value);
    if (indexed) this.insert(key, name, size);
  }

  private dynamicIndex(seq: number | undefined): number | undefined {
    return seq === undefined ? undefined : staticTable.length + (this.insertedCount - seq) + 1;
  }

  private insert(key: string, name: string, size: number): void {
    this.evictTo(this.maxTableBytes - size);
    const seq = ++this.insertedCount;
    this.changes++;
    this.entries.push({ key, name, size, seq });
    this.tableBytes += size;
    this.byField.set(key, seq);
    this.byName.set(name, seq);
  }

  private evictTo(limitBytes: number): void {
    while (this.tableBytes > Math.max(0, limitBytes) && this.entries.length > 0) {
      const oldest = this.entries.shift()!;
      this.tableBytes -= oldest.size;
      if (this.byField.get(oldest.key) === oldest.seq) this.byField.delete(oldest.key);
      if (this.byName.get(oldest.name) === oldest.seq) this.byName.delete(oldest.name);
    }
  }
}

const staticExactIndex = new Map<string, number>();
const staticNameIndex = new Map<string, number>();
staticTable.forEach(([name, value], i) => {
  if (!staticExactIndex.has(name + '\0' + value)) staticExactIndex.set(name + '\0' + value, i + 1);
  if (!staticNameIndex.has(name)) staticNameIndex.set(name, i + 1);
});
