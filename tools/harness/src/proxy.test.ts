import net from 'node:net';
import { freePorts } from './ports';
import { dialerPid, startFaultProxy, type FaultProxy } from './proxy';

// An echo server stands in for a member: whatever reaches it through the proxy comes back.
let echo: net.Server;
let echoPort: number;
const proxies: FaultProxy[] = [];
const sockets: net.Socket[] = [];

beforeAll(async () => {
  echo = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  echoPort = (echo.address() as net.AddressInfo).port;
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await new Promise<void>((r) => echo.close(() => r()));
});

async function proxy(identifySource?: (s: net.Socket) => Promise<string | undefined>): Promise<FaultProxy> {
  const [listenPort] = await freePorts(1);
  const p = await startFaultProxy({ listenPort: listenPort!, targetPort: echoPort, identifySource });
  proxies.push(p);
  return p;
}

async function connect(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return socket;
}

/** Sends `text` and resolves with what came back, or undefined if nothing did within `waitMs`. */
function roundTrip(socket: net.Socket, text: string, waitMs = 1000): Promise<string | undefined> {
  return new Promise((resolve) => {
    let received = '';
    const timer = setTimeout(() => finish(received === '' ? undefined : received), waitMs);
    const onData = (d: Buffer) => {
      received += d.toString();
      if (received.length >= text.length) finish(received);
    };
    const finish = (result: string | undefined) => {
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(result);
    };
    socket.on('data', onData);
    socket.write(text);
  });
}

const closed = (socket: net.Socket) => new Promise<void>((r) => (socket.destroyed ? r() : socket.once('close', () => r())));

describe('fault-injecting TCP proxy', () => {
  it('forwards both ways in pass mode', async () => {
    const p = await proxy();
    const socket = await connect(p.listenPort);
    expect(await roundTrip(socket, 'hello')).toBe('hello');
    expect(p.forwardedCount()).toBe(1);
  });

  it('drop mode closes live connections and blackholes new ones until passing again', async () => {
    const p = await proxy();
    const live = await connect(p.listenPort);
    expect(await roundTrip(live, 'a')).toBe('a');
    p.setMode({ kind: 'drop' });
    await closed(live);
    const fresh = await connect(p.listenPort); // accepted, but silent
    expect(await roundTrip(fresh, 'lost', 300)).toBeUndefined();
    expect(p.forwardedCount()).toBe(0);
    p.setMode({ kind: 'pass' });
    await closed(fresh); // the blackholed connection is released so the dialer reconnects
    const again = await connect(p.listenPort);
    expect(await roundTrip(again, 'back')).toBe('back');
  });

  it('delay mode holds every chunk for the delay and keeps their order', async () => {
    const p = await proxy();
    const socket = await connect(p.listenPort);
    p.setMode({ kind: 'delay', delayMs: 150 });
    const started = Date.now();
    const reply = roundTrip(socket, '0123456789', 3000);
    expect(await reply).toBe('0123456789');
    // Both directions are delayed, so the echo comes back no sooner than two delays.
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    p.setMode({ kind: 'pass' });
    expect(await roundTrip(socket, 'xyz')).toBe('xyz');
  });

  it('blocks connections by source tag, cutting live ones and blackholing new ones', async () => {
    let nextTag = 'alice';
    const p = await proxy(async () => nextTag);
    const alice = await connect(p.listenPort);
    expect(await roundTrip(alice, 'a')).toBe('a');
    nextTag = 'bob';
    const bob = await connect(p.listenPort);
    expect(await roundTrip(bob, 'b')).toBe('b');
    p.blockSource('alice');
    await closed(alice);
    expect(await roundTrip(bob, 'still')).toBe('still');
    nextTag = 'alice';
    const aliceAgain = await connect(p.listenPort);
    expect(await roundTrip(aliceAgain, 'x', 300)).toBeUndefined();
    p.unblockSource('alice');
    await closed(aliceAgain);
  });

  it('finds which process dialled an accepted connection', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
    const client = await connect((server.address() as net.AddressInfo).port);
    const socket = await accepted;
    try {
      expect(dialerPid(socket, [process.pid])).toBe(process.pid);
      expect(dialerPid(socket, [1])).toBeUndefined();
    } finally {
      socket.destroy();
      client.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
