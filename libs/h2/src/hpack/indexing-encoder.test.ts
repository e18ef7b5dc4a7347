import { HpackDecoder } from './decoder';
import { HpackEncoder } from './indexing-encoder';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('HpackEncoder (dynamic table)', () => {
  // RFC 7541 Appendix C.3: requests without Huffman coding, sharing one dynamic table.
  it('writes the RFC 7541 C.3 request sequence byte for byte', () => {
    const encoder = new HpackEncoder();
    expect(encoder.encode([[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']])).toEqual(
      hex('8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d'),
    );
    expect(
      encoder.encode([[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache']]),
    ).toEqual(hex('8286 84be 5808 6e6f 2d63 6163 6865'));
    expect(
      encoder.encode([[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']]),
    ).toEqual(hex('8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65'));
  });

  it('sends fields the policy rejects without indexing', () => {
    const encoder = new HpackEncoder((name) => name !== 'grpc-message');
    const block = encoder.encode([['grpc-message', 'boom']]);
    expect(block[0]! & 0xf0).toBe(0x00); // literal without indexing
    expect(encoder.dynamicEntryCount).toBe(0);
  });

  it('stays in step with a decoder through evictions and table size changes', () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    let seed = 7;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 500; round++) {
      if (round === 100) encoder.setPeerTableLimit(256);
      if (round === 101) encoder.setPeerTableLimit(0);
      if (round === 102) encoder.setPeerTableLimit(4096);
      if (round === 300) {
        encoder.setPeerTableLimit(100); // two changes before the next block: smallest, then final
        encoder.setPeerTableLimit(1000);
      }
      const headers: [string, string][] = [[':status', '200']];
      for (let i = 0; i < 1 + next(6); i++) headers.push([`x-field-${next(12)}`, 'v'.repeat(next(300))]);
      expect(decoder.decode(encoder.encode(headers))).toEqual(headers);
    }
  });
});
