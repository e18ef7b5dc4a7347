import { writeInteger, writeString } from './primitives';
import { staticTable } from './static-table';

/**
 * A stateless HPACK encoder: every field is a "literal without indexing" (with the name
 * taken from the static table when it is there) and strings are not Huffman-coded. That
 * never touches the peer's dynamic table, so a header block can be built once and reused
 * for every request with the same headers.
 */
export function encodeHeaderBlock(headers: readonly (readonly [string, string])[]): Buffer {
  const bytes: number[] = [];
  for (const [name, value] of headers) {
    const exact = staticTable.findIndex(([n, v]) => n === name && v === value);
    if (exact >= 0) {
      writeInteger(bytes, exact + 1, 7, 0x80);
      continue;
    }
    const nameIndex = staticTable.findIndex(([n]) => n === name);
    if (nameIndex >= 0) {
      writeInteger(bytes, nameIndex + 1, 4, 0x00);
    } else {
      bytes.push(0x00);
      writeString(bytes, name);
    }
    writeString(bytes, value);
  }
  return Buffer.from(bytes);
}
