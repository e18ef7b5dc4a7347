import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { FrameReader, HelloStatus, encodeHelloAck } from './wire';
import { makeTestCerts } from '../rpc/test-certs';
import { clientTlsOptions, serverTlsOptions } from '../rpc/tls';
import { delivered, startNode, stopAllNodes, unusedPort, waitFor } from './test-nodes';

afterEach(stopAllNodes);

describe('PeerTransport', () => {
  test('messages sent in one synchronous run arrive in order, batched', async () => {
    const a = await startNode(1n);
    const b = await startNode(2n);
    a.transport.addPeer(2n, [b.url]);
    await waitFor(() => a.transport.activeSince(2n) !== undefined);
    const sent = Array.from({ length: 1000 }, (_, i) => `m${i}`);
    for (const m of sent) expect(a.transport.send(2n, Buffer.from(m))).toBe(true);
    await waitFor(() => delivered(b).length === sent.length);
    expect(delivered(b)).toEqual(sent);
    expect(b.received.every((r) => r.from === 1n)).toBe(true);
    // One run's sends leave as one frame (a few at most if the socket pushed back).
    expect(b.received.length).toBeLessThanOrEqual(3);
  });

  test('queued messages go out within the same turn: at the end of the run, or at once on flushQueued()', async () => {
    const a = await startNode(1n);
    const b = await startNode(2n);
    a.transport.addPeer(2n, [b.url]);
    await waitFor(() => a.transport.activeSince(2n) !== undefined);
    a.transport.send(2n, Buffer.from('x'));
    a.transport.send(2n, Buffer.from('y'));
    expect(a.transport.stats(2n)).toMatchObject({ queuedMessages: 2, sentMessages: 0 });
    await Promise.resolve(); // a microtask checkpoint, not an event-loop turn
    expect(a.transport.stats(2n)).toMatchObject({ queuedMessages: 0, sentMessages: 2 });
    a.transport.send(2n, Buffer.from('z'));
    a.transport.flushQueued();
    expect(a.transport.stats(2n)).toMatchObject({ queuedMessages: 0, sentMessages: 3 });
    await waitFor(() => delivered(b).length === 3);
    expect(delivered(b)).toEqual(['x', 'y', 'z']);
  });

  test('reconnects after the peer listener restarts, reporting it unreachable meanwhile', async () => {
    const a = await startNode(1n);
    let b = await startNode(2n);
    a.transport.addPeer(2n, [b.url]);
    a.transport.send(2n, Buffer.from('before'));
    await waitFor(() => delivered(b).includes('before'));

    await b.transport.stop();
    await waitFor(() => a.unreachable.some((u) => u.peer === 2n));
    expect(a.transport.activeSince(2n)).toBeUndefined();

    b = await startNode(2n, b.port);
    await waitFor(() => a.transport.activeSince(2n) !== undefined);
    a.transport.send(2n, Buffer.from('after'));
    await waitFor(() => delivered(b).includes('after'));
  });

  test('the per-peer queue is bounded: excess messages are dropped and reported', async () => {
    const deadPort = await unusedPort();
    const a = await startNode(1n, 0, { limits: { queueMessagesMax: 100, backoffMinMs: 1000, backoffMaxMs: 1000 } });
    a.transport.addPeer(9n, [`http://127.0.0.1:${deadPort}`]); // nothing listens there
    const accepted = Array.from({ length: 110 }, (_, i) => a.transport.send(9n, Buffer.from(`x${i}`)));
    expect(accepted.filter(Boolean)).toHaveLength(100);
    expect(accepted.slice(100).every((ok) => !ok)).toBe(true);
    expect(a.transport.stats(9n)).toMatchObject({ queuedMessages: 100, droppedMessages: 10, connected: false });
    expect(a.unreachable.some((u) => u.peer === 9n && u.reason === 'queue-full')).toBe(true);
    expect(a.logs.some((l) => l.includes('sending queue to peer is full'))).toBe(true);
  });

  test('a peer of another cluster is refused with a clear log on both sides', async () => {
    const a = await startNode(1n);
    const b = await startNode(2n, 0, { clusterId: 0xbadn });
    a.transport.addPeer(2n, [b.url]);
    a.transport.send(2n, Buffer.from('should not arrive'));
    await waitFor(() => a.unreachable.some((u) => u.peer === 2n && u.reason === 'refused'));
    expect(b.logs.some((l) => l.includes('cluster ID mismatch') && l.includes('c1') && l.includes('bad'))).toBe(true);
    expect(a.logs.some((l) => l.includes('belongs to cluster bad'))).toBe(true);
    expect(delivered(b)).toEqual([]);
    expect(a.transport.activeSince(2n)).toBeUndefined();
  });

  test('a connection meant for another member ID is refused', async () => {
    const a = await startNode(1n);
    const b = await startNode(3n);
    a.transport.addPeer(2n, [b.url]); // member 3 answers there
    await waitFor(() => a.unreachable.some((u) => u.reason === 'refused'));
    expect(b.logs.some((l) => l.includes('wanted member 2'))).toBe(true);
  });

  test('a multi-MB snapshot arrives intact, in chunks, and the sender learns it was stored', async () => {
    const a = await startNode(1n, 0, { limits: { snapshotChunkBytes: 256 * 1024 } });
    const b = await startNode(2n);
    a.transport.addPeer(2n, [b.url]);
    const body = randomBytes(5 * 1024 * 1024 + 123);
    async function* pieces(): AsyncGenerator<Uint8Array> {
      for (let offset = 0; offset < body.length; offset += 700_000) yield body.subarray(offset, offset + 700_000);
    }
    await a.transport.sendSnapshot(2n, Buffer.from('meta:index=42'), pieces());
    expect(b.snapshots).toHaveLength(1);
    expect(b.snapshots[0]!.from).toBe(1n);
    expect(b.snapshots[0]!.meta).toBe('meta:index=42');
    expect(b.snapshots[0]!.data.equals(body)).toBe(true);
    expect(b.snapshots[0]!.chunks).toBeGreaterThanOrEqual(Math.ceil(body.length / (256 * 1024)));
  });

  test('a snapshot goes to the first reachable URL of a multi-URL peer', async () => {
    const a = await startNode(1n);
    const b = await startNode(2n);
    a.transport.addPeer(2n, [`http://127.0.0.1:${await unusedPort()}`, b.url]);
    await a.transport.sendSnapshot(2n, Buffer.from('m2'), Buffer.from('tiny body'));
    expect(b.snapshots.map((snap) => snap.data.toString())).toEqual(['tiny body']);
  });

  test('a snapshot the receiver fails to store rejects on the sender with the reason', async () => {
    const a = await startNode(1n);
    const b = await startNode(2n, 0, {
      onSnapshot: async (_from, _meta, data) => {
        for await (const _chunk of data) break;
        throw new Error('disk full');
      },
    });
    a.transport.addPeer(2n, [b.url]);
    await expect(a.transport.sendSnapshot(2n, Buffer.from('m'), Buffer.alloc(3 * 1024 * 1024))).rejects.toThrow('disk full');
  });

  test('removePeer refuses that member from then on', async () => {
    const a = await startNode(1n);
    const b = await startNode(2n);
    b.transport.removePeer(1n);
    a.transport.addPeer(2n, [b.url]);
    await waitFor(() => a.unreachable.some((u) => u.reason === 'refused'));
    expect(b.logs.some((l) => l.includes('has been removed from the cluster'))).toBe(true);
    expect(a.transport.send(5n, Buffer.from('to nobody'))).toBe(false);
  });

  test('a peer that accepts but then goes silent (e.g. frozen) is dropped after the idle timeout', async () => {
    // A fake member 2: answers the handshake, then never says anything again (no PONGs).
    const silent = net.createServer((socket) => {
      const reader = new FrameReader();
      let answered = false;
      socket.on('data', (chunk) => {
        if (answered) return;
        const afterMagic = chunk.subarray(8);
        if (reader.push(afterMagic).length > 0) {
          answered = true;
          socket.write(encodeHelloAck({ status: HelloStatus.OK, responderId: 2n, clusterId: 0xc1n, reason: '' }));
        }
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const a = await startNode(1n, 0, { limits: { pingIntervalMs: 50, idleTimeoutMs: 300, backoffMinMs: 5000, backoffMaxMs: 5000 } });
      a.transport.addPeer(2n, [`http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`]);
      await waitFor(() => a.transport.activeSince(2n) !== undefined);
      await waitFor(() => a.unreachable.some((u) => u.peer === 2n && u.reason === 'disconnected'), 3000);
      expect(a.logs.some((l) => l.includes('silent too long'))).toBe(true);
    } finally {
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('peer TLS with client-cert auth carries messages and snapshots; a peer without a certificate is refused', async () => {
    const certs = makeTestCerts();
    try {
      const files = {
        certFile: certs.serverCert,
        keyFile: certs.serverKey,
        trustedCaFile: certs.ca,
        clientCertAuth: true,
        crlFile: '',
        autoTls: false,
        allowedCn: '',
        allowedHostname: '',
      };
      const tls = { server: serverTlsOptions(files), client: clientTlsOptions(files) };
      const a = await startNode(1n, 0, { tls }, 'https');
      const b = await startNode(2n, 0, { tls }, 'https');
      a.transport.addPeer(2n, [b.url]);
      a.transport.send(2n, Buffer.from('secret'));
      await waitFor(() => delivered(b).includes('secret'));
      await a.transport.sendSnapshot(2n, Buffer.from('m'), Buffer.alloc(300_000, 9));
      expect(b.snapshots[0]!.data.equals(Buffer.alloc(300_000, 9))).toBe(true);

      const noCert = { ...files, certFile: '', keyFile: '' };
      const c = await startNode(3n, 0, { tls: { server: serverTlsOptions(files), client: clientTlsOptions(noCert) } }, 'https');
      c.transport.addPeer(2n, [b.url]);
      await waitFor(() => c.unreachable.some((u) => u.peer === 2n && u.reason === 'connect-failed'));
      expect(b.logs.some((l) => l.includes('peer TLS handshake failed'))).toBe(true);
    } finally {
      certs.remove();
    }
  });
});
