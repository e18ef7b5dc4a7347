import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Flag, FrameType, HpackDecoder, connectionPreface, encodeHeaderBlock, frameHeader } from '@keel/h2';
import { etcdserverpb } from '@keel/proto';
import { authorityWithoutScheme, inspectFirstHeaders, withoutFirstSettingsAck } from './authority-filter';
import { GrpcServer, type GrpcFrontEnd } from './server';
import { listenShared, type SharedListener } from './listener';

const run = promisify(execFile);

function headersFrame(streamId: number, headers: [string, string][]): Buffer {
  const block = encodeHeaderBlock(headers);
  return Buffer.concat([frameHeader(block.length, FrameType.Headers, Flag.EndHeaders, streamId), block]);
}

const settings = frameHeader(0, FrameType.Settings, 0, 0);
const settingsAck = frameHeader(0, FrameType.Settings, Flag.Ack, 0);

describe('authority filter', () => {
  it('strips the scheme (and any path) from an authority', () => {
    expect(authorityWithoutScheme('http://127.0.0.1:2379')).toBe('127.0.0.1:2379');
    expect(authorityWithoutScheme('passthrough:///http://h:1/x')).toBe('h:1');
    expect(authorityWithoutScheme('127.0.0.1:2379')).toBe('127.0.0.1:2379');
  });

  it('decides on the first header block: rewrite for a URL authority, pass otherwise', () => {
    const start = Buffer.concat([connectionPreface, settings]);
    expect(inspectFirstHeaders(start)).toBeUndefined();
    expect(inspectFirstHeaders(Buffer.concat([start, headersFrame(1, [[':authority', 'http://h:1']])]))).toBe('rewrite');
    expect(inspectFirstHeaders(Buffer.concat([start, headersFrame(1, [[':authority', 'h:1']])]))).toBe('pass');
  });

  it('cuts exactly the first SETTINGS ACK out of the buffered bytes', () => {
    const headers = headersFrame(1, [[':authority', 'h:1']]);
    const bytes = Buffer.concat([connectionPreface, settings, settingsAck, headers]);
    expect(withoutFirstSettingsAck(bytes)).toEqual(Buffer.concat([connectionPreface, settings, headers]));
    expect(withoutFirstSettingsAck(Buffer.concat([connectionPreface, settings, headers]))).toBeUndefined();
    // Sanity: what remains still decodes as the same header block.
    expect(new HpackDecoder().decode(headers.subarray(9))).toEqual([[':authority', 'h:1']]);
  });
});

/**
 * etcdctl 3.4 dials `endpoint status` with the whole URL as the HTTP/2 authority; node's
 * http2 alone resets such streams. Through the listener it must work, as on etcd.
 */
const FRONT_ENDS: GrpcFrontEnd[] = ['lean', 'node-http2'];

describe.each(FRONT_ENDS)('listener (%s front end) with etcdctl --endpoints=http://...', (frontEnd) => {
  let server: GrpcServer;
  let listener: SharedListener;
  const header = { clusterId: 1n, memberId: 0xabcdefn, revision: 7n, raftTerm: 3n };

  beforeAll(async () => {
    server = new GrpcServer({ maxReceiveMessageBytes: 2 * 1024 * 1024, frontEnd });
    server.addService(etcdserverpb.MaintenanceService, {
      status: () => ({ header, version: '3.4.23', dbSize: 8192n, leader: 0xabcdefn, raftIndex: 9n, raftTerm: 3n, raftAppliedIndex: 9n, errors: [], dbSizeInUse: 8192n, isLearner: false, storageVersion: '', dbSizeQuota: 0n }),
    });
    server.addService(etcdserverpb.KVService, {
      range: () => ({ header, kvs: [], more: false, count: 0n }),
    });
    listener = await listenShared({ url: 'http://127.0.0.1:0', grpc: server, http1: (_q, s) => s.end() });
  });

  afterAll(async () => {
    await server.close(100);
    await listener.close();
  });

  const etcdctl = (endpoint: string, ...args: string[]) =>
    run('etcdctl', [`--endpoints=${endpoint}`, '--command-timeout=5s', ...args], { env: { ...process.env, ETCDCTL_API: '3' } });

  it('serves endpoint status when the authority is a URL', async () => {
    const { stdout } = await etcdctl(`http://127.0.0.1:${listener.port}`, 'endpoint', 'status', '-w', 'json');
    const [status] = JSON.parse(stdout) as { Endpoint: string; Status: { raftIndex: number } }[];
    expect(status!.Endpoint).toBe(`http://127.0.0.1:${listener.port}`);
    expect(status!.Status.raftIndex).toBe(9);
  });

  it('serves ordinary connections too (host:port and URL endpoints)', async () => {
    await expect(etcdctl(`127.0.0.1:${listener.port}`, 'get', 'k')).resolves.toMatchObject({ stdout: '' });
    await expect(etcdctl(`http://127.0.0.1:${listener.port}`, 'get', 'k')).resolves.toMatchObject({ stdout: '' });
  });
});
