/**
 * Dialling a peer and running the HELLO handshake; shared by the message stream and by
 * snapshot transfers.
 */
import net from 'node:net';
import tls from 'node:tls';
import { formatId } from '../ids';
import { bindAddress } from '../rpc/listener';
import {
  type ConnectionKindCode,
  type Frame,
  FrameReader,
  FrameType,
  type HelloAck,
  HelloStatus,
  PEER_MAGIC,
  PROTOCOL_VERSION,
  decodeHelloAck,
  encodeHello,
} from './wire';

/** A refusal by the remote side: not worth hammering, but raft must hear the peer is unreachable. */
export class HandshakeRefused extends Error {
  constructor(
    readonly ack: HelloAck,
    url: string,
  ) {
    super(`peer at ${url} refused the connection: ${ack.reason}`);
    this.name = 'HandshakeRefused';
  }
}

export interface DialOptions {
  readonly url: string;
  readonly kind: ConnectionKindCode;
  readonly from: bigint;
  readonly to: bigint;
  readonly clusterId: bigint;
  readonly timeoutMs: number;
  /** Client TLS options, used for https peer URLs (required for them). */
  readonly tls?: tls.ConnectionOptions;
}

export interface DialedConnection {
  readonly socket: net.Socket;
  /** Reader already holding any bytes that came after the ack. */
  readonly reader: FrameReader;
  /** Frames that arrived in the same chunk as the ack. */
  readonly pending: Frame[];
}

/** Connects, sends magic + HELLO, waits for an OK HELLO_ACK. Rejects (and destroys) otherwise. */
export function dialPeer(options: DialOptions): Promise<DialedConnection> {
  return new Promise((resolve, reject) => {
    let socket: net.Socket;
    let connectEvent: 'connect' | 'secureConnect';
    try {
      const address = bindAddress(options.url);
      if (address.secure) {
        if (options.tls === undefined) throw new Error(`peer URL ${options.url}: https needs --peer-cert-file/--peer-key-file/--peer-trusted-ca-file`);
        const servername = net.isIP(address.host) === 0 ? address.host : undefined;
        socket = tls.connect({ ...options.tls, host: address.host, port: address.port, ...(servername ? { servername } : {}) });
        socket.setNoDelay(true);
        connectEvent = 'secureConnect';
      } else {
        socket = net.connect({ host: address.host, port: address.port, noDelay: true });
        connectEvent = 'connect';
      }
    } catch (err) {
      reject(err);
      return;
    }
    const reader = new FrameReader();
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`dial ${options.url}: no handshake within ${options.timeoutMs} ms`)), options.timeoutMs);
    socket.once('error', (err) => fail(err));
    socket.once('close', () => fail(new Error(`dial ${options.url}: connection closed during handshake`)));
    socket.once(connectEvent, () => {
      socket.write(PEER_MAGIC);
      socket.write(
        encodeHello({
          version: PROTOCOL_VERSION,
          kind: options.kind,
          from: options.from,
          to: options.to,
          clusterId: options.clusterId,
        }),
      );
    });
    const onData = (chunk: Buffer): void => {
      let frames: Frame[];
      try {
        frames = reader.push(chunk);
      } catch (err) {
        fail(err as Error);
        return;
      }
      if (frames.length === 0) return;
      const [first, ...rest] = frames;
      socket.off('data', onData);
      socket.pause();
      clearTimeout(timer);
      if (first!.type !== FrameType.HELLO_ACK) {
        fail(new Error(`dial ${options.url}: expected HELLO_ACK, got frame type ${first!.type}`));
        return;
      }
      let ack: HelloAck;
      try {
        ack = decodeHelloAck(first!.payload);
      } catch (err) {
        fail(err as Error);
        return;
      }
      if (ack.status !== HelloStatus.OK) {
        fail(new HandshakeRefused(ack, options.url));
        return;
      }
      settled = true;
      socket.removeAllListeners('error');
      socket.removeAllListeners('close');
      resolve({ socket, reader, pending: rest });
    };
    socket.on('data', onData);
  });
}

/** A one-line description of a refusal for logs. */
export function describeRefusal(err: HandshakeRefused, localClusterId: bigint): string {
  if (err.ack.status === HelloStatus.CLUSTER_MISMATCH) {
    return `peer ${formatId(err.ack.responderId)} belongs to cluster ${formatId(err.ack.clusterId)}, this member to cluster ${formatId(localClusterId)}`;
  }
  return err.message;
}
