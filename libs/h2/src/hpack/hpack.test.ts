import { HpackDecoder } from './decoder';
import { encodeHeaderBlock } from './encoder';
import { huffmanDecode } from './huffman';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Worked examples from RFC 7541 Appendix C.
describe('HPACK', () => {
  it('decodes Huffman strings (C.4.1 "www.example.com")', () => {
    expect(huffmanDecode(hex('f1e3 c2e5 f23a 6ba0 ab90 f4ff'))).toBe('www.example.com');
  });

  it('decodes a sequence of requests that share the dynamic table (C.4.1–C.4.3)', () => {
    const decoder = new HpackDecoder();
    expect(decoder.decode(hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff'))).toEqual([
      [':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'],
    ]);
    expect(decoder.decode(hex('8286 84be 5886 a8eb 1064 9cbf'))).toEqual([
      [':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache'],
    ]);
    expect(decoder.decode(hex('8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf'))).toEqual([
      [':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value'],
    ]);
  });

  it('evicts from a small dynamic table (C.5 responses with a 256-byte table)', () => {
    const decoder = new HpackDecoder(256);
    decoder.decode(hex('4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d'));
    expect(decoder.decode(hex('4803 3330 37c1 c0bf'))).toEqual([
      [':status', '307'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'], ['location', 'https://www.example.com'],
    ]);
  });

  it('round-trips what the encoder writes', () => {
    const headers: [string, string][] = [[':method', 'POST'], [':scheme', 'http'], [':path', '/etcdserverpb.KV/Put'], ['content-type', 'application/grpc'], ['te', 'trailers']];
    expect(new HpackDecoder().decode(encodeHeaderBlock(headers))).toEqual(headers);
  });

  it('rejects bad padding and out-of-range indexes', () => {
    expect(() => huffmanDecode(hex('00'))).toThrow(/padding/);
    expect(() => new HpackDecoder().decode(hex('ff00'))).toThrow(/out of range/);
  });
});

describe('HpackDecoder table size updates', () => {
  it('accepts growing the table back up to the settings limit after shrinking it', () => {
    const decoder = new HpackDecoder(4096);
    expect(decoder.decode(hex('20'))).toEqual([]); // size 0
    expect(decoder.decode(hex('3fe1 1f'))).toEqual([]); // size 4096 again
    expect(() => decoder.decode(hex('3fe2 1f'))).toThrow(/above the limit/); // 4097
  });
});
