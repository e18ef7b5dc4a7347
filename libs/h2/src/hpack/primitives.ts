// HPACK's two primitive encodings (RFC 7541 §5): prefixed integers and string literals.
// Strings are written raw (no Huffman coding); header names and values are latin1 text.

/** Appends `value` as an integer with an N-bit prefix; `firstByteFlags` fills the bits above it. */
export function writeInteger(out: number[], value: number, prefixBits: number, firstByteFlags: number): void {
  const limit = (1 << prefixBits) - 1;
  if (value < limit) {
    out.push(firstByteFlags | value);
    return;
  }
  out.push(firstByteFlags | limit);
  let rest = value - limit;
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
}

/** Appends a string literal without Huffman coding (one byte per latin1 character). */
export function writeString(out: number[], text: string): void {
  writeInteger(out, text.length, 7, 0x00);
  for (let i = 0; i < text.length; i++) out.push(text.charCodeAt(i) & 0xff);
}
