/**
 * Robustness: random, truncated and corrupted frame streams must end in a GOAWAY or carry on,
 * never in an exception. Every case reproduces from its printed seed.
 */
import { ErrorCode, Flag, FrameType, connectionPreface, encodeGrpcFrame, frameHeader, settingsFrame } from '@keel/h2';
import { GrpcServer } from '../server';
import { TestService } from '../test-service';
import { GRPC_HEADERS, MemorySocket, TestPeer } from './test-peer';

/** mulberry32: a small seeded PRNG, so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KNOWN_CODES = new Set<number>(Object.values(ErrorCode));

function randomBytes(random: () => number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256);
  return out;
}

/** One frame: mostly well-formed shapes with random fields, sometimes garbage or cut short. */
function randomFrame(random: () => number, peer: TestPeer): Buffer {
  const pick = random();
  const streamId = [0, 1, 2, 3, 5, 7, 2 ** 31 - 1][Math.floor(random() * 7)]!;
  if (pick < 0.25) {
    const path = random() < 0.5 ? TestService.echo.path : TestService.chat.path;
    return peer.headersFrame(streamId, GRPC_HEADERS(path), random() < 0.5);
  }
  if (pick < 0.4) return peer.frame(FrameType.Data, random() < 0.5 ? Flag.EndStream : 0, streamId, encodeGrpcFrame(Buffer.from('{}')));
  if (pick < 0.5) return randomBytes(random, Math.floor(random() * 30));
  const type = Math.floor(random() * 12);
  const flags = Math.floor(random() * 256);
  const payload = randomBytes(random, [0, 4, 5, 8, 6, 13][Math.floor(random() * 6)]!);
  const frame = Buffer.concat([frameHeader(payload.length, type, flags, streamId), payload]);
  return random() < 0.1 ? frame.subarray(0, Math.floor(random() * frame.length)) : frame;
}

describe('lean HTTP/2 server under random input', () => {
  const failures: unknown[] = [];
  const onUncaught = (err: unknown): void => {
    failures.push(err);
  };
  beforeAll(() => process.on('uncaughtException', onUncaught));
  afterAll(() => process.off('uncaughtException', onUncaught));

  test('300 random frame sequences: no exception, only known GOAWAY codes, the socket ends after GOAWAY', async () => {
    for (let seed = 1; seed <= 300; seed++) {
      const random = rng(seed);
      const server = new GrpcServer({ maxReceiveMessageBytes: 1024, keepaliveIntervalMs: 0, frontEnd: 'lean', maxConcurrentStreams: 4 });
      server.addService(TestService, {
        echo: () => ({ text: 'ok' }),
        chat: (call) => call.onMessage(() => call.write({ text: 'x' })),
      });
      const socket = new MemorySocket();
      server.acceptConnection(socket, Buffer.alloc(0));
      const peer = new TestPeer(socket);
      const parts: Buffer[] = [random() < 0.9 ? connectionPreface : randomBytes(random, 24), settingsFrame([])];
      const count = 1 + Math.floor(random() * 20);
      for (let i = 0; i < count; i++) parts.push(randomFrame(random, peer));
      // Delivered in random slices, as TCP might.
      const bytes = Buffer.concat(parts);
      for (let offset = 0; offset < bytes.length; ) {
        const size = 1 + Math.floor(random() * 64);
        socket.push(bytes.subarray(offset, offset + size));
        offset += size;
      }
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      const goAway = peer.goAway();
      if (goAway !== undefined) {
        expect({ seed, known: KNOWN_CODES.has(goAway.code) }).toEqual({ seed, known: true });
        expect({ seed, ended: socket.ended }).toEqual({ seed, ended: true });
      }
      expect({ seed, failures }).toEqual({ seed, failures: [] });
      socket.destroy();
      await server.close(10);
    }
  });
});
