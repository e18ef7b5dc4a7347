import { huffmanCodeLengths, huffmanCodes } from './huffman-table';

/**
 * Huffman decoding as a binary trie walked bit by bit. nodes[2n] / nodes[2n+1] are the
 * children of node n for bit 0 / 1: a positive value is a child node, a negative value
 * -(symbol+1) is a leaf, 0 means no such code.
 */
const nodes = buildTrie();

function buildTrie(): Int32Array {
  const trie = new Int32Array(2 * 512);
  let nextNode = 1;
  for (let symbol = 0; symbol < 257; symbol++) {
    const code = huffmanCodes[symbol]!;
    const length = huffmanCodeLengths[symbol]!;
    let node = 0;
    for (let bit = length - 1; bit >= 0; bit--) {
      const slot = 2 * node + ((Math.floor(code / 2 ** bit) & 1));
      if (bit === 0) {
        trie[slot] = -(symbol + 1);
      } else {
        if (trie[slot] === 0) trie[slot] = nextNode++;
        node = trie[slot]!;
      }
    }
  }
  return trie;
}

export class HpackError extends Error {}

/** Decodes a Huffman-coded string; padding must be at most 7 one-bits (RFC 7541 §5.2). */
export function huffmanDecode(input: Uint8Array): string {
  let out = '';
  let node = 0;
  let bitsSinceSymbol = 0;
  let allOnes = true;
  for (let i = 0; i < input.length; i++) {
    const byte = input[i]!;
    for (let bit = 7; bit >= 0; bit--) {
      const b = (byte >> bit) & 1;
      const next = nodes[2 * node + b]!;
      bitsSinceSymbol++;
      allOnes = allOnes && b === 1;
      if (next < 0) {
        const symbol = -next - 1;
        if (symbol === 256) throw new HpackError('EOS symbol inside a Huffman string');
        out += String.fromCharCode(symbol);
        node = 0;
        bitsSinceSymbol = 0;
        allOnes = true;
      } else if (next === 0) {
        throw new HpackError('invalid Huffman code');
      } else {
        node = next;
      }
    }
  }
  if (bitsSinceSymbol > 7 || !allOnes) throw new HpackError('invalid Huffman padding');
  return out;
}
