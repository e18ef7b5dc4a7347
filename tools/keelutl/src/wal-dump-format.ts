// Text helpers for `keelutl wal dump`, matching how etcd-dump-logs prints values: IDs as
// unpadded lowercase hex, byte strings Go-%q style, long values as "prefix"..."suffix".

/** etcd's types.ID formatting: unpadded lowercase hex of the unsigned 64-bit value. */
export function formatId(id: bigint): string {
  return BigInt.asUintN(64, id).toString(16);
}

/** Bytes as a double-quoted string with Go-style escapes for anything not printable ASCII. */
export function quoteBytes(bytes: Uint8Array): string {
  let out = '"';
  for (const byte of bytes) out += escapeByte(byte);
  return out + '"';
}

/** etcd-dump-logs' excerpt: the whole value quoted, or its first `pre` and last `suf` bytes. */
export function excerpt(bytes: Uint8Array, pre: number, suf: number): string {
  if (pre + suf >= bytes.length) return quoteBytes(bytes);
  const head = quoteBytes(bytes.subarray(0, pre));
  return suf > 0 ? `${head}...${quoteBytes(bytes.subarray(bytes.length - suf))}` : `${head}...`;
}

function escapeByte(byte: number): string {
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
  return `\\x${byte.toString(16).padStart(2, '0')}`;
}
