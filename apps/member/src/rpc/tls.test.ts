import * as grpc from '@grpc/grpc-js';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { promisify } from 'node:util';
import { GrpcServer, type GrpcFrontEnd } from './server';
import { listenShared, type SharedListener } from './listener';
import { makeTestCerts, type TestCerts } from './test-certs';
import { TestService, type TestMessage } from './test-service';
import { clientCertificateCheck, serverTlsOptions } from './tls';
import { etcdserverpb } from '@keel/proto';

const run = promisify(execFile);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyClient = any;

const FRONT_ENDS: GrpcFrontEnd[] = ['lean', 'node-http2'];

describe.each(FRONT_ENDS)('TLS on the shared client port (client-cert auth), %s front end', (frontEnd) => {
  let certs: TestCerts;
  let server: GrpcServer;
  let listener: SharedListener;
  const store = new Map<string, Buffer>();

  beforeAll(async () => {
    certs = makeTestCerts();
    server = new GrpcServer({ maxReceiveMessageBytes: 1024 * 1024, frontEnd });
    server.addService(TestService, { echo: (req) => ({ text: `tls:${req.text}` }) });
    server.addService(etcdserverpb.KVService, {
      put: (req) => {
        store.set(req.key.toString(), req.value);
        return {};
      },
      range: (req) => {
        const value = store.get(req.key.toString());
        const kvs = value === undefined ? [] : [{ key: req.key, value, createRevision: 1n, modRevision: 1n, version: 1n, lease: 0n }];
        return { kvs, more: false, count: BigInt(kvs.length) };
      },
    });
    const tls = serverTlsOptions({
      certFile: certs.serverCert,
      keyFile: certs.serverKey,
      trustedCaFile: certs.ca,
      clientCertAuth: true,
      crlFile: '',
      autoTls: false,
      allowedCn: '',
      allowedHostname: '',
    });
    listener = await listenShared({ url: 'https://127.0.0.1:0', tls, grpc: server, http1: (req, res) => res.end(`https ${req.url}`) });
  });

  afterAll(async () => {
    await server.close(100);
    await listener.close();
    certs.remove();
  });

  const client = (withClientCert: boolean): AnyClient => {
    const Client = grpc.makeGenericClientConstructor(TestService as never, 'Test');
    const creds = withClientCert
      ? grpc.credentials.createSsl(readFileSync(certs.ca), readFileSync(certs.clientKey), readFileSync(certs.clientCert))
      : grpc.credentials.createSsl(readFileSync(certs.ca));
    return new Client(`127.0.0.1:${listener.port}`, creds);
  };

  const echo = (c: AnyClient): Promise<TestMessage> =>
    new Promise((resolve, reject) =>
      c.echo({ text: 'x' }, { deadline: Date.now() + 3000 }, (err: Error | null, res: TestMessage) => (err ? reject(err) : resolve(res))),
    );

  test('gRPC over TLS (ALPN h2) with a client certificate', async () => {
    const c = client(true);
    try {
      await expect(echo(c)).resolves.toEqual({ text: 'tls:x' });
    } finally {
      c.close();
    }
  });

  test('a client without a certificate is refused', async () => {
    const c = client(false);
    try {
      await expect(echo(c)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    } finally {
      c.close();
    }
  });

  test('HTTPS/1.1 on the same port', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.get(
        {
          host: '127.0.0.1',
          port: listener.port,
          path: '/health',
          servername: 'localhost',
          ca: readFileSync(certs.ca),
          cert: readFileSync(certs.clientCert),
          key: readFileSync(certs.clientKey),
        },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
    });
    expect(body).toBe('https /health');
  });

  test('etcdctl with --cacert/--cert/--key', async () => {
    const args = [
      `--endpoints=https://127.0.0.1:${listener.port}`,
      `--cacert=${certs.ca}`,
      `--cert=${certs.clientCert}`,
      `--key=${certs.clientKey}`,
      '--command-timeout=5s',
    ];
    await expect(run('etcdctl', [...args, 'put', 'secure', 'yes'])).resolves.toMatchObject({ stdout: 'OK\n' });
    await expect(run('etcdctl', [...args, 'get', 'secure'])).resolves.toMatchObject({ stdout: 'secure\nyes\n' });
  });
});

describe('allowed CN / hostname for client certificates', () => {
  test('a certificate without the allowed CN is refused; one valid for the allowed hostname passes', async () => {
    const certs = makeTestCerts();
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
    const server = new GrpcServer({ maxReceiveMessageBytes: 1024 });
    server.addService(TestService, { echo: (req) => ({ text: req.text }) });
    const start = (rules: { allowedCn?: string; allowedHostname?: string }): Promise<SharedListener> =>
      listenShared({
        url: 'https://127.0.0.1:0',
        tls: serverTlsOptions(files),
        verifyClient: clientCertificateCheck({ ...files, ...rules }),
        grpc: server,
        http1: (_q, s) => s.end(),
      });
    const call = (port: number): Promise<TestMessage> => {
      const Client = grpc.makeGenericClientConstructor(TestService as never, 'Test');
      const creds = grpc.credentials.createSsl(readFileSync(certs.ca), readFileSync(certs.clientKey), readFileSync(certs.clientCert));
      const c: AnyClient = new Client(`127.0.0.1:${port}`, creds);
      return new Promise<TestMessage>((resolve, reject) =>
        c.echo({ text: 'y' }, { deadline: Date.now() + 2000 }, (err: Error | null, res: TestMessage) => (err ? reject(err) : resolve(res))),
      ).finally(() => c.close());
    };
    const wrongCn = await start({ allowedCn: 'someone-else' });
    const rightCn = await start({ allowedCn: 'client' });
    const hostname = await start({ allowedHostname: 'localhost' });
    try {
      await expect(call(wrongCn.port)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
      await expect(call(rightCn.port)).resolves.toEqual({ text: 'y' });
      await expect(call(hostname.port)).resolves.toEqual({ text: 'y' });
    } finally {
      await server.close(100);
      await Promise.all([wrongCn.close(), rightCn.close(), hostname.close()]);
      certs.remove();
    }
  });
});
