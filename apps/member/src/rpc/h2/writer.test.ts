import { Duplex } from 'node:stream';
import { FrameWriter, flushQueuedResponses } from './writer';

/** A socket whose writes complete only when the test says so. */
class SlowSocket extends Duplex {
  readonly writes: Buffer[] = [];
  private pending: (() => void)[] = [];

  constructor() {
    super({ highWaterMark: 1024 });
  }

  override _read(): void {
    // Nothing to read in these tests.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.writes.push(chunk);
    this.pending.push(done);
  }

  release(): void {
    const pending = this.pending;
    this.pending = [];
    for (const done of pending) done();
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('FrameWriter', () => {
  test('flushQueuedResponses writes every connection\'s queued frames at once, and only once', async () => {
    const sockets = [new SlowSocket(), new SlowSocket()];
    const writers = sockets.map((socket) => new FrameWriter(socket, () => undefined));
    writers.forEach((writer, i) => {
      writer.frameHeader(1, 0, 0, 1);
      writer.payload(Buffer.from([i]));
    });
    expect(sockets.map((s) => s.writes.length)).toEqual([0, 0]);
    flushQueuedResponses();
    expect(sockets.map((s) => s.writes.map((w) => w[w.length - 1]))).toEqual([[0], [1]]);
    await turn();
    expect(sockets.map((s) => s.writes.length)).toEqual([1, 1]);
  });

  test('frames queued in one turn leave in one write, in order; large payloads are not copied', async () => {
    const socket = new SlowSocket();
    const writer = new FrameWriter(socket, () => undefined);
    writer.frameHeader(3, 1, 4, 1);
    writer.payload(Buffer.from('abc'));
    const big = Buffer.alloc(70 * 1024, 0x62);
    writer.frameHeader(big.length, 0, 0, 1);
    writer.payload(big);
    writer.frameHeader(1, 1, 5, 1);
    writer.payload(Buffer.from('z'));
    await turn();
    for (let i = 0; i < 5; i++) {
      socket.release(); // the socket takes one buffer at a time
      await turn();
    }
    const all = Buffer.concat(socket.writes);
    expect(all.length).toBe(9 + 3 + 9 + big.length + 9 + 1);
    expect(all.subarray(0, 12)).toEqual(Buffer.from([0, 0, 3, 1, 4, 0, 0, 0, 1, 0x61, 0x62, 0x63]));
    expect(all.subarray(-1).toString()).toBe('z');
    expect(socket.writes.some((w) => w === big)).toBe(true); // queued by reference (writev)
  });

  test('a full socket makes it congested until drain, then calls back', async () => {
    const socket = new SlowSocket();
    let drains = 0;
    const writer = new FrameWriter(socket, () => drains++);
    writer.payload(Buffer.alloc(4096));
    expect(writer.congested).toBe(false);
    await turn();
    expect(writer.congested).toBe(true);
    socket.release();
    await turn();
    expect(writer.congested).toBe(false);
    expect(drains).toBe(1);
  });

  test('does not write to a destroyed socket', async () => {
    const socket = new SlowSocket();
    const writer = new FrameWriter(socket, () => undefined);
    writer.payload(Buffer.from('late'));
    socket.destroy();
    await turn();
    expect(socket.writes).toEqual([]);
  });
});
