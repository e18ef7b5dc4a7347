import { staticTable } from './static-table';
import { HpackError, huffmanDecode } from './huffman';

export type HeaderList = [string, string][];

const entryOverheadBytes = 32;

/**
 * HPACK header block decoder (RFC 7541) with its dynamic table. One per connection: every
 * header block the peer sends must pass through it in order, to keep the table in step.
 */
export class HpackDecoder {
  private readonly dynamic: [string, string][] = [];
  private dynamicSize = 0;
  /** The most a table size update may ask for: our SETTINGS_HEADER_TABLE_SIZE, not the current size. */
  private readonly tableSizeLimit: number;

  constructor(private maxTableSize = 4096) {
    this.tableSizeLimit = maxTableSize;
  }

  decode(block: Uint8Array): HeaderList {
    const headers: HeaderList = [];
    const cursor = { offset: 0 };
    while (cursor.offset < block.length) {
      const first = block[cursor.offset]!;
      if (first & 0x80) {
        headers.push(this.entry(readInteger(block, cursor, 7)));
      } else if (first & 0x40) {
        const header = this.literal(block, cursor, 6);
        this.insert(header);
        headers.push(header);
      } else if (first & 0x20) {
        const size = readInteger(block, cursor, 5);
        if (size > this.tableSizeLimit) throw new HpackError(`table size update ${size} above the limit`);
        this.evictTo(size);
        this.maxTableSize = size;
      } else {
        headers.push(this.literal(block, cursor, 4));
      }
    }
    return headers;
  }

  private entry(index: number): [string, string] {
    if (index === 0) throw new HpackError('header index 0');
    if (index <= staticTable.length) {
      const [name, value] = staticTable[index - 1]!;
      return [name, value];
    }
    const entry = this.dynamic[index - staticTable.length - 1];
    if (!entry) throw new HpackError(`header index ${index} out of range`);
    return [entry[0], entry[1]];
  }

  private literal(block: Uint8Array, cursor: { offset: number }, prefixBits: number): [string, string] {
    const nameIndex = readInteger(block, cursor, prefixBits);
    const name = nameIndex === 0 ? readString(block, cursor) : this.entry(nameIndex)[0];
    return [name, readString(block, cursor)];
  }

  private insert(header: [string, string]): void {
    const size = header[0].length + header[1].length + entryOverheadBytes;
    this.evictTo(this.maxTableSize - size);
    if (size <= this.maxTableSize) {
      this.dynamic.unshift(header);
      this.dynamicSize += size;
    }
  }

  private evictTo(limit: number): void {
    while (this.dynamicSize > Math.max(0, limit) && this.dynamic.length > 0) {
      const [name, value] = this.dynamic.pop()!;
      this.dynamicSize -= name.length + value.length + entryOverheadBytes;
    }
  }
}

function readInteger(block: Uint8Array, cursor: { offset: number }, prefixBits: number): number {
  const mask = (1 << prefixBits) - 1;
  let value = block[cursor.offset++]! & mask;
  if (value < mask) return value;
  let shift = 0;
  for (;;) {
    const byte = block[cursor.offset++];
    if (byte === undefined) throw new HpackError('truncated integer');
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) return value;
    if (shift > 28) throw new HpackError('integer too large');
  }
}

function readString(block: Uint8Array, cursor: { offset: number }): string {
  const huffman = (block[cursor.offset]! & 0x80) !== 0;
  const length = readInteger(block, cursor, 7);
  const end = cursor.offset + length;
  if (end > block.length) throw new HpackError('truncated string');
  const start = cursor.offset;
  cursor.offset = end;
  if (huffman) return huffmanDecode(block.subarray(start, end));
  // A view, not a copy: only the string is allocated.
  return Buffer.from(block.buffer, block.byteOffset + start, end - start).toString('latin1');
}
