import zlib from 'node:zlib';
import { Deframer, encodeFrame, messageEncodingOf } from './framing';
import { GrpcError, GrpcStatus, decodeGrpcMessage, encodeGrpcMessage } from './status';
import { parseGrpcTimeout } from './call';

describe('Deframer', () => {
  const messages = [Buffer.from('alpha'), Buffer.alloc(0), Buffer.from('a longer message with more bytes in it')];
  const stream = Buffer.concat(messages.map((m) => encodeFrame(m)));

  test('every split of the byte stream yields the same messages', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const deframer = new Deframer(1024);
      const out = [...deframer.push(stream.subarray(0, cut)), ...deframer.push(stream.subarray(cut))];
      expect(out.map((b) => b.toString())).toEqual(messages.map((b) => b.toString()));
      expect(deframer.hasPartial).toBe(false);
    }
  });

  test('byte-at-a-time feeding yields the same messages', () => {
    const deframer = new Deframer(1024);
    const out: Buffer[] = [];
    for (const byte of stream) out.push(...deframer.push(Buffer.from([byte])));
    expect(out.map((b) => b.toString())).toEqual(messages.map((b) => b.toString()));
  });

  test('a partial frame is reported until completed', () => {
    const deframer = new Deframer(1024);
    const frame = encodeFrame(Buffer.from('xyz'));
    expect(deframer.push(frame.subarray(0, 6))).toEqual([]);
    expect(deframer.hasPartial).toBe(true);
    expect(deframer.push(frame.subarray(6)).map(String)).toEqual(['xyz']);
    expect(deframer.hasPartial).toBe(false);
  });

  test('an oversized length is refused from the header alone', () => {
    const deframer = new Deframer(10);
    const header = Buffer.from([0, 0, 0, 0, 11]);
    expect(() => deframer.push(header)).toThrow(
      new GrpcError(GrpcStatus.RESOURCE_EXHAUSTED, 'grpc: received message larger than max (11 vs. 10)'),
    );
  });

  test('a compressed frame is refused (no compression is negotiated)', () => {
    const deframer = new Deframer(10);
    let caught: unknown;
    try {
      deframer.push(Buffer.from([1, 0, 0, 0, 1, 42]));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GrpcError);
    expect((caught as GrpcError).code).toBe(GrpcStatus.INTERNAL);
  });
});

describe('compressed requests', () => {
  const compressedFrame = (body: Buffer): Buffer => {
    const frame = encodeFrame(body);
    frame[0] = 1;
    return frame;
  };

  test('gzip and deflate messages are inflated', () => {
    expect(new Deframer(100, 'gzip').push(compressedFrame(zlib.gzipSync('hello'))).map(String)).toEqual(['hello']);
    expect(new Deframer(100, 'deflate').push(compressedFrame(zlib.deflateSync('bye'))).map(String)).toEqual(['bye']);
    // Uncompressed frames stay allowed on a gzip stream.
    expect(new Deframer(100, 'gzip').push(encodeFrame(Buffer.from('plain'))).map(String)).toEqual(['plain']);
  });

  test('a message that inflates past the limit is RESOURCE_EXHAUSTED', () => {
    const bomb = zlib.gzipSync(Buffer.alloc(1024 * 1024));
    expect(bomb.length).toBeLessThan(10_000);
    expect(() => new Deframer(64 * 1024, 'gzip').push(compressedFrame(bomb))).toThrow(/after decompression larger than max/);
  });

  test('grpc-encoding values', () => {
    expect(messageEncodingOf(undefined)).toBe('identity');
    expect(messageEncodingOf('gzip')).toBe('gzip');
    expect(messageEncodingOf('snappy')).toBeUndefined();
  });
});

describe('grpc-message encoding', () => {
  test('printable ASCII passes, % and non-ASCII are percent-encoded, and it round-trips', () => {
    const text = 'etcdserver: 100% — ünïcode\nline';
    const encoded = encodeGrpcMessage(text);
    expect(encoded).toBe('etcdserver: 100%25 %E2%80%94 %C3%BCn%C3%AFcode%0Aline');
    expect(decodeGrpcMessage(encoded)).toBe(text);
  });
});

describe('parseGrpcTimeout', () => {
  test.each([
    ['100m', 100],
    ['5S', 5000],
    ['2M', 120000],
    ['1H', 3600000],
    ['1500u', 1.5],
  ])('%s is %d ms', (text, ms) => expect(parseGrpcTimeout(text)).toBeCloseTo(ms));
  test('malformed values are ignored', () => {
    expect(parseGrpcTimeout('10x')).toBeUndefined();
    expect(parseGrpcTimeout('123456789S')).toBeUndefined();
  });
});
