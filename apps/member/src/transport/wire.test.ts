import {
  ConnectionKind,
  FrameReader,
  FrameType,
  HelloStatus,
  decodeBatch,
  decodeHello,
  decodeHelloAck,
  encodeBatch,
  encodeFrame,
  encodeHello,
  encodeHelloAck,
} from './wire';

describe('peer wire format', () => {
  test('a batch round-trips through the frame reader at every split point', () => {
    const messages = [Buffer.from('one'), Buffer.alloc(0), Buffer.from('three-three')];
    const bytes = Buffer.concat([...encodeBatch(messages), encodeFrame(FrameType.PING, Buffer.alloc(8, 1))]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const reader = new FrameReader();
      const frames = [...reader.push(bytes.subarray(0, cut)), ...reader.push(bytes.subarray(cut))];
      expect(frames.map((f) => f.type)).toEqual([FrameType.BATCH, FrameType.PING]);
      expect(decodeBatch(frames[0]!.payload).map(String)).toEqual(['one', '', 'three-three']);
    }
  });

  test('hello and ack carry full 64-bit IDs', () => {
    const hello = { version: 1, kind: ConnectionKind.SNAPSHOT, from: 0xffffffffffffffffn, to: 0x8e9e05c52164694dn, clusterId: 1n };
    const [frame] = new FrameReader().push(encodeHello(hello));
    expect(decodeHello(frame!.payload)).toEqual(hello);
    const ack = { status: HelloStatus.CLUSTER_MISMATCH, responderId: 2n ** 63n, clusterId: 7n, reason: 'nope ✓' };
    const [ackFrame] = new FrameReader().push(encodeHelloAck(ack));
    expect(decodeHelloAck(ackFrame!.payload)).toEqual(ack);
  });

  test('corrupt input is refused', () => {
    expect(() => new FrameReader().push(Buffer.from([0xff, 0xff, 0xff, 0xff, 3]))).toThrow('out of range');
    const truncated = Buffer.concat(encodeBatch([Buffer.from('abc')])).subarray(5, -1);
    expect(() => decodeBatch(truncated)).toThrow('truncated');
  });
});
