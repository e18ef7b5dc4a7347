// Text helpers for `keelutl wal dump`, matching how etcd-dump-logs prints values: IDs as
// unpadded lowercase hex, byte strings Go-%q style, long values as "prefix"..."suffix".

/** etcd's types.ID formatting: unpadded lowercase hex of the unsigned 64-bit value. */
export function formatId(id: bigint): string {
  return BigInt.asUintN(64, id).toString(16);
}

/**
 * How other bytes are escaped: Go's %q (`\xff`), or protobuf text format (`\377`, octal),
 * which is what etcd-dump-logs shows inside a decoded request.
 */
export type ByteEscapes = 'go' | 'protoText';

/** Bytes as a double-quoted string, escaping anything not printable ASCII. */
export function quoteBytes(bytes: Uint8Array, escapes: ByteEscapes = 'go'): string {
  const other = escapes === 'go' ? hexEscape : octalEscape;
  let out = '"';
  for (const byte of bytes) out += escapeByte(byte, other);
  return out + '"';
}

/** etcd-dump-logs' excerpt: the whole value quoted, or its first `pre` and last `suf` bytes. */
export function excerpt(bytes: Uint8Array, pre: number, suf: number, escapes: ByteEscapes = 'go'): string {
  if (pre + suf >= bytes.length) return quoteBytes(bytes, escapes);
  const head = quoteBytes(bytes.subarray(0, pre), escapes);
  return suf > 0 ? `${head}...${quoteBytes(bytes.subarray(bytes.length - suf), escapes)}` : `${head}...`;
}

const hexEscape = (byte: number): string => `\\x${byte.toString(16).padStart(2, '0')}`;
const octalEscape = (byte: number): string => `\\${byte.toString(8).padStart(3, '0')}`;

function escapeByte(byte: number, other: (byte: number) => string): string {
  switch (byte) {
    case 0x22:
      return '\\"';
    case 0x5c:
      return '\\\\';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
  }
  if (byte >= 0x20 && byte < 0x7f) return String.fromCharCode(byte);
  return other(byte);
}
