import { ErrorCode, Flag, FrameType, Setting, connectionPreface, encodeGrpcFrame, settingsFrame } from '@keel/h2';
import { GrpcServer, type GrpcServerOptions } from '../server';
import { GrpcError, GrpcStatus } from '../status';
import { TestService, type TestMessage } from '../test-service';
import { GRPC_HEADERS, MemorySocket, TestPeer } from './test-peer';

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const ECHO = TestService.echo.path;
const BLOB = TestService.blob.path;

interface Harness {
  server: GrpcServer;
  socket: MemorySocket;
  peer: TestPeer;
  aborted: string[];
}

function start(options: Partial<GrpcServerOptions> = {}): Harness {
  const aborted: string[] = [];
  const server = new GrpcServer({ maxReceiveMessageBytes: 4 * 1024 * 1024, keepaliveIntervalMs: 0, frontEnd: 'lean', ...options });
  server.addService(TestService, {
    echo: (req: TestMessage, ctx) => ({ text: `${req.text ?? ''}|${String(ctx.metadata[':authority'])}` }),
    fail: () => {
      throw new GrpcError(GrpcStatus.NOT_FOUND, 'no such thing: 100%');
    },
    hang: (req: TestMessage, ctx) =>
      new Promise<TestMessage>((resolve) => {
        ctx.signal.addEventListener('abort', () => {
          aborted.push(req.text ?? '');
          resolve({});
        });
        if (req.n !== undefined) setTimeout(() => resolve({ text: 'late' }), req.n);
      }),
    blob: (req: Buffer) => Buffer.alloc(req.readUInt32BE(0), 0x61),
    chat: (call) =>
      call.onMessage(() => {
        throw new Error('listener bug');
      }),
  });
  const socket = new MemorySocket();
  server.acceptConnection(socket, Buffer.alloc(0));
  return { server, socket, peer: new TestPeer(socket), aborted };
}

/** gRPC messages in a DATA payload. */
function messages(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let offset = 0; offset < data.length; ) {
    const length = data.readUInt32BE(offset + 1);
    out.push(data.subarray(offset + 5, offset + 5 + length));
    offset += 5 + length;
  }
  return out;
}

const field = (headers: [string, string][] | undefined, name: string): string | undefined => headers?.find(([n]) => n === name)?.[1];

describe('lean HTTP/2 server connection', () => {
  test('answers the preface with SETTINGS, a connection WINDOW_UPDATE, and acknowledges the client SETTINGS', async () => {
    const { peer } = start({ maxConcurrentStreams: 7 });
    peer.preface([[Setting.InitialWindowSize, 1 << 20]]);
    await peer.until(() => peer.frames.length >= 3);
    const [settings, windowUpdate, ack] = peer.frames;
    expect(settings!.type).toBe(FrameType.Settings);
    expect(settings!.flags & Flag.Ack).toBe(0);
    const announced = new Map<number, number>();
    for (let i = 0; i < settings!.payload.length; i += 6) announced.set(settings!.payload.readUInt16BE(i), settings!.payload.readUInt32BE(i + 2));
    expect(announced.get(Setting.MaxConcurrentStreams)).toBe(7);
    expect(announced.get(Setting.InitialWindowSize)).toBe(1024 * 1024);
    expect(windowUpdate!.type).toBe(FrameType.WindowUpdate);
    expect(windowUpdate!.payload.readUInt32BE(0)).toBe(16 * 1024 * 1024 - 65535);
    expect(ack!.type).toBe(FrameType.Settings);
    expect(ack!.flags & Flag.Ack).toBe(Flag.Ack);
  });

  test('a unary response (HEADERS, DATA, trailers) leaves in one socket write', async () => {
    const { peer, socket } = start();
    peer.preface();
    await peer.until(() => peer.frames.length >= 3);
    const writesBefore = socket.writes.length;
    peer.unary(1, ECHO, json({ text: 'hi' }));
    await peer.until(() => peer.response(1).ended);
    expect(socket.writes.length - writesBefore).toBe(1);
    const { headers, data } = peer.response(1);
    expect(headers[0]).toEqual([[':status', '200'], ['content-type', 'application/grpc']]);
    expect(headers[1]).toEqual([['grpc-status', '0']]);
    expect(JSON.parse(messages(data)[0]!.toString())).toEqual({ text: 'hi|localhost' });
  });

  test('accepts a URL as :authority (etcdctl --endpoints=http://...) and CONTINUATION frames', async () => {
    const { peer } = start();
    peer.preface();
    const block = peer.encoder.encode(GRPC_HEADERS(ECHO).map(([n, v]): [string, string] => [n, n === ':authority' ? 'http://127.0.0.1:2379' : v]));
    peer.send(
      peer.frame(FrameType.Headers, 0, 1, block.subarray(0, 10)),
      peer.frame(FrameType.Continuation, 0, 1, block.subarray(10, 20)),
      peer.frame(FrameType.Continuation, Flag.EndHeaders, 1, block.subarray(20)),
      peer.frame(FrameType.Data, Flag.EndStream, 1, encodeGrpcFrame(json({ text: 'u' }))),
    );
    await peer.until(() => peer.response(1).ended);
    expect(JSON.parse(messages(peer.response(1).data)[0]!.toString())).toEqual({ text: 'u|http://127.0.0.1:2379' });
  });

  test('keeps both HPACK dynamic tables in step over many calls', async () => {
    const { peer, socket } = start();
    peer.preface();
    for (let id = 1; id <= 41; id += 2) peer.unary(id, id % 3 === 0 ? TestService.fail.path : ECHO, json({ text: `n${id}` }), [['x-call', `c${id % 5}`]]);
    await peer.until(() => peer.response(41).ended);
    for (let id = 1; id <= 41; id += 2) {
      const trailers = peer.response(id).headers.at(-1);
      if (id % 3 === 0) {
        expect(field(trailers, 'grpc-status')).toBe(String(GrpcStatus.NOT_FOUND));
        expect(field(trailers, 'grpc-message')).toBe('no such thing: 100%25');
      } else {
        expect(field(trailers, 'grpc-status')).toBe('0');
      }
    }
    // After the first response, ':status' and 'content-type' are one-byte references.
    const lastHeaders = peer.of(41, FrameType.Headers)[0]!;
    expect(lastHeaders.payload.length).toBe(2);
    expect(socket.ended).toBe(false);
  });

  test('honours the peer stream window and max frame size; a big response waits for WINDOW_UPDATE', async () => {
    const { peer } = start();
    peer.preface([[Setting.InitialWindowSize, 1000], [Setting.MaxFrameSize, 20000]]);
    const request = Buffer.alloc(4);
    request.writeUInt32BE(100_000);
    peer.unary(1, BLOB, request);
    await peer.until(() => peer.response(1).data.length === 1000);
    await new Promise((r) => setTimeout(r, 20));
    expect(peer.response(1).data.length).toBe(1000); // the stream window is spent
    peer.windowUpdate(1, 70_000); // the connection window (65,535) now limits
    await peer.until(() => peer.response(1).data.length === 65535);
    await new Promise((r) => setTimeout(r, 20));
    expect(peer.response(1).data.length).toBe(65535);
    peer.windowUpdate(0, 1_000_000);
    peer.windowUpdate(1, 1_000_000);
    await peer.until(() => peer.response(1).ended);
    const frames = peer.of(1, FrameType.Data);
    expect(Math.max(...frames.map((f) => f.payload.length))).toBe(20000);
    expect(peer.response(1).data.length).toBe(100_005);
  });

  test('a SETTINGS_INITIAL_WINDOW_SIZE change applies to open streams (even below zero)', async () => {
    const { peer } = start();
    peer.preface([[Setting.InitialWindowSize, 3000]]);
    const request = Buffer.alloc(4);
    request.writeUInt32BE(10_000);
    peer.unary(1, BLOB, request);
    await peer.until(() => peer.response(1).data.length === 3000);
    peer.send(settingsFrame([[Setting.InitialWindowSize, 1000]])); // window now -2000
    peer.windowUpdate(1, 2500); // +500 available
    await peer.until(() => peer.response(1).data.length === 3500);
    peer.send(settingsFrame([[Setting.InitialWindowSize, 100_000]]));
    await peer.until(() => peer.response(1).ended);
    expect(peer.response(1).data.length).toBe(10_005);
  });

  test('gives request window back as data is consumed', async () => {
    const { peer } = start();
    peer.preface();
    // 1.5 MiB of request in 16 KiB frames: the stream window is 1 MiB, so updates must flow.
    const body = encodeGrpcFrame(Buffer.alloc(1536 * 1024 - 5));
    peer.send(peer.headersFrame(1, GRPC_HEADERS(BLOB)));
    for (let offset = 0; offset < body.length; offset += 16384) {
      const end = Math.min(offset + 16384, body.length);
      peer.send(peer.frame(FrameType.Data, end === body.length ? Flag.EndStream : 0, 1, body.subarray(offset, end)));
    }
    await peer.until(() => peer.response(1).ended);
    const updates = peer.of(1, FrameType.WindowUpdate).reduce((sum, f) => sum + f.payload.readUInt32BE(0), 0);
    expect(updates).toBeGreaterThanOrEqual(512 * 1024);
    const connectionUpdates = peer.of(0, FrameType.WindowUpdate).slice(1).reduce((sum, f) => sum + f.payload.readUInt32BE(0), 0);
    expect(connectionUpdates).toBe(0); // below half of the 16 MiB connection window: nothing owed yet
    expect(peer.goAway()).toBeUndefined();
  });

  test('RST_STREAM from the client aborts the call signal', async () => {
    const { peer, aborted } = start();
    peer.preface();
    peer.unary(1, TestService.hang.path, json({ text: 'gone' }));
    await new Promise((r) => setTimeout(r, 10));
    const code = Buffer.alloc(4);
    code.writeUInt32BE(ErrorCode.Cancel);
    peer.send(peer.frame(FrameType.RstStream, 0, 1, code));
    await peer.until(() => aborted.length === 1);
    expect(aborted).toEqual(['gone']);
    expect(peer.response(1).headers).toEqual([]);
  });

  test('grpc-timeout ends the call with DEADLINE_EXCEEDED', async () => {
    const { peer, aborted } = start();
    peer.preface();
    peer.unary(1, TestService.hang.path, json({ text: 'slow' }), [['grpc-timeout', '30m']]);
    await peer.until(() => peer.response(1).ended);
    expect(field(peer.response(1).headers.at(-1), 'grpc-status')).toBe(String(GrpcStatus.DEADLINE_EXCEEDED));
    expect(aborted).toEqual(['slow']);
  });

  test('refuses streams beyond SETTINGS_MAX_CONCURRENT_STREAMS', async () => {
    const { peer } = start({ maxConcurrentStreams: 2 });
    peer.preface();
    for (const id of [1, 3, 5]) peer.unary(id, TestService.hang.path, json({ text: `s${id}`, n: 50 }));
    await peer.until(() => peer.of(5, FrameType.RstStream).length > 0);
    expect(peer.of(5, FrameType.RstStream)[0]!.payload.readUInt32BE(0)).toBe(ErrorCode.RefusedStream);
    await peer.until(() => peer.response(3).ended);
    peer.unary(7, ECHO, json({ text: 'after' }));
    await peer.until(() => peer.response(7).ended);
    expect(field(peer.response(7).headers.at(-1), 'grpc-status')).toBe('0');
  });

  test('answers PING, ignores PRIORITY and unknown frame types', async () => {
    const { peer } = start();
    peer.preface();
    peer.send(
      peer.frame(FrameType.Priority, 0, 9, Buffer.alloc(5)),
      peer.frame(0xfa, 0x3, 0, Buffer.from('whatever')),
      peer.frame(FrameType.Ping, 0, 0, Buffer.from('12345678')),
    );
    peer.unary(1, ECHO, json({ text: 'x' }));
    await peer.until(() => peer.response(1).ended);
    const ping = peer.frames.find((f) => f.type === FrameType.Ping)!;
    expect(ping.flags & Flag.Ack).toBe(Flag.Ack);
    expect(ping.payload.toString()).toBe('12345678');
    expect(peer.goAway()).toBeUndefined();
  });

  test('graceful shutdown: GOAWAY(NO_ERROR), the call in flight finishes, new streams are refused, the socket ends', async () => {
    const { server, peer, socket } = start();
    peer.preface();
    peer.unary(1, TestService.hang.path, json({ text: 'inflight', n: 60 }));
    await new Promise((r) => setTimeout(r, 10));
    const closed = server.close(2000);
    await peer.until(() => peer.goAway() !== undefined);
    expect(peer.goAway()).toEqual({ lastStreamId: 1, code: ErrorCode.NoError });
    peer.unary(3, ECHO, json({ text: 'late' }));
    await peer.until(() => peer.of(3, FrameType.RstStream).length > 0);
    expect(peer.of(3, FrameType.RstStream)[0]!.payload.readUInt32BE(0)).toBe(ErrorCode.RefusedStream);
    await peer.until(() => socket.ended);
    expect(JSON.parse(messages(peer.response(1).data)[0]!.toString())).toEqual({ text: 'late' });
    socket.destroy();
    await closed;
  });

  test.each([
    ['a bad preface', (p: TestPeer) => p.send(Buffer.from('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n')), ErrorCode.ProtocolError],
    ['a first frame other than SETTINGS', (p: TestPeer) => p.send(connectionPreface, p.frame(FrameType.Ping, 0, 0, Buffer.alloc(8))), ErrorCode.ProtocolError],
    ['an oversized frame', (p: TestPeer) => (p.preface(), p.send(p.frame(FrameType.Data, 0, 1, Buffer.alloc(16385)))), ErrorCode.FrameSizeError],
    ['an even stream id', (p: TestPeer) => (p.preface(), p.send(p.headersFrame(2, GRPC_HEADERS(ECHO)))), ErrorCode.ProtocolError],
    ['a broken HPACK block', (p: TestPeer) => (p.preface(), p.send(p.frame(FrameType.Headers, Flag.EndHeaders, 1, Buffer.from([0xff, 0x00])))), ErrorCode.CompressionError],
    ['an interrupted header block', (p: TestPeer) => (p.preface(), p.send(p.frame(FrameType.Headers, 0, 1, Buffer.from([0x83])), p.frame(FrameType.Ping, 0, 0, Buffer.alloc(8)))), ErrorCode.ProtocolError],
    ['DATA on an idle stream', (p: TestPeer) => (p.preface(), p.send(p.frame(FrameType.Data, 0, 5, Buffer.alloc(1)))), ErrorCode.ProtocolError],
    ['a SETTINGS payload of the wrong size', (p: TestPeer) => (p.preface(), p.send(p.frame(FrameType.Settings, 0, 0, Buffer.alloc(5)))), ErrorCode.FrameSizeError],
    ['a zero connection WINDOW_UPDATE', (p: TestPeer) => (p.preface(), p.windowUpdate(0, 0)), ErrorCode.ProtocolError],
    ['a connection window overflow', (p: TestPeer) => (p.preface(), p.windowUpdate(0, 2 ** 31 - 1)), ErrorCode.FlowControlError],
    ['PUSH_PROMISE', (p: TestPeer) => (p.preface(), p.send(p.frame(FrameType.PushPromise, Flag.EndHeaders, 1, Buffer.alloc(4)))), ErrorCode.ProtocolError],
  ])('%s is a connection error with GOAWAY', async (_name, misbehave, code) => {
    const { peer, socket } = start();
    misbehave(peer);
    await peer.until(() => peer.goAway() !== undefined && socket.ended);
    expect(peer.goAway()!.code).toBe(code);
  });

  test('an unknown method is answered trailers-only; a call ended before the client half-closed gets RST_STREAM(NO_ERROR)', async () => {
    const { peer } = start();
    peer.preface();
    peer.send(peer.headersFrame(1, GRPC_HEADERS('/keel.test.Test/Nope'), true));
    peer.send(peer.headersFrame(3, GRPC_HEADERS('/keel.test.Test/Nope'))); // no END_STREAM
    await peer.until(() => peer.response(1).ended && peer.of(3, FrameType.RstStream).length > 0);
    const [only] = peer.response(1).headers;
    expect(field(only, 'grpc-status')).toBe(String(GrpcStatus.UNIMPLEMENTED));
    expect(field(only, 'grpc-message')).toBe('unknown method Nope for service keel.test.Test');
    expect(peer.of(1, FrameType.RstStream)).toEqual([]);
    expect(peer.of(3, FrameType.RstStream)[0]!.payload.readUInt32BE(0)).toBe(ErrorCode.NoError);
  });

  test('call code throwing while reading resets its stream, not the connection', async () => {
    const { peer } = start();
    peer.preface();
    peer.unary(1, TestService.chat.path, json({ text: 'x' }));
    peer.unary(3, ECHO, json({ text: 'still here' }));
    await peer.until(() => peer.response(3).ended);
    expect(peer.of(1, FrameType.RstStream)[0]!.payload.readUInt32BE(0)).toBe(ErrorCode.InternalError);
    expect(JSON.parse(messages(peer.response(3).data)[0]!.toString())).toEqual({ text: 'still here|localhost' });
    expect(peer.goAway()).toBeUndefined();
  });

  test('a malformed request (missing :path) resets only its stream', async () => {
    const { peer } = start();
    peer.preface();
    peer.send(peer.headersFrame(1, [[':method', 'POST'], [':scheme', 'http']], true));
    peer.unary(3, ECHO, json({ text: 'ok' }));
    await peer.until(() => peer.response(3).ended);
    expect(peer.of(1, FrameType.RstStream)[0]!.payload.readUInt32BE(0)).toBe(ErrorCode.ProtocolError);
    expect(peer.goAway()).toBeUndefined();
  });
});
