import net from 'node:net';
import { freePort, freePorts, waitForPort } from './ports';

describe('ports', () => {
  it('freePort returns a port that can be listened on', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    await waitForPort(port, 2000);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('freePorts returns distinct ports', async () => {
    const ports = await freePorts(5);
    expect(new Set(ports).size).toBe(5);
  });

  it('waitForPort rejects when nothing listens', async () => {
    const port = await freePort();
    await expect(waitForPort(port, 200)).rejects.toThrow(/nothing listening/);
  });
});
