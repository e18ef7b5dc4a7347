// The member core started inside the test process and driven with the etcd3 npm client:
// fast checks of the write path, reads, txns, leases and restart recovery.
import { Etcd3 } from 'etcd3';
// Test-only use of the workspace test harness (a tool project).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { freePorts, makeTempDir, removeTempDir } from '@keel/harness';
import { createMetrics } from '../src/observability/metrics';
import { createLogger } from '../src/observability/logger';
import { startMember, type MemberHandle } from '../src/server/member';
import { inProcessConfig } from './inprocess-config';
import { answerFlushes } from '../src/rpc/h2/writer';

const logger = createLogger({ level: 'error', outputs: ['stderr'], sync: true });

async function start(dataDir: string, ports: number[]): Promise<{ member: MemberHandle; client: Etcd3 }> {
  const config = inProcessConfig({ dataDir, clientPort: ports[0]!, peerPort: ports[1]! });
  const member = await startMember(config, logger, createMetrics({ processMetrics: false }));
  const client = new Etcd3({ hosts: `http://127.0.0.1:${ports[0]}` });
  return { member, client };
}

async function until<T>(work: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe('member core (in process, etcd3 client)', () => {
  let dataDir: string;
  let ports: number[];
  let running: { member: MemberHandle; client: Etcd3 } | undefined;

  beforeAll(async () => {
    dataDir = makeTempDir('keel-inproc-');
    ports = await freePorts(2);
    running = await start(dataDir, ports);
  });

  afterAll(async () => {
    running?.client.close();
    await running?.member.close();
    removeTempDir(dataDir);
  });

  it('puts, gets, and answers with increasing revisions', async () => {
    const { client } = running!;
    await until(async () => client.put('foo').value('bar'));
    expect(await client.get('foo').string()).toBe('bar');
    const first = await client.put('a/1').value('x');
    const second = await client.put('a/2').value('y');
    expect(BigInt(second.header.revision)).toBe(BigInt(first.header.revision) + 1n);
    expect(await client.getAll().prefix('a/').strings()).toEqual({ 'a/1': 'x', 'a/2': 'y' });
    expect(second.header.member_id).not.toBe('0');
    expect(second.header.cluster_id).not.toBe('0');
  });

  it("puts a lone put's reply on the wire with its apply, not a poll phase later", async () => {
    const { client } = running!;
    await until(async () => client.put('lone').value('warm'));
    const before = { ...answerFlushes };
    for (let i = 0; i < 20; i++) await client.put('lone').value(String(i));
    // One answer flush per put; each should find the put's reply already queued (the raft loop
    // waits ANSWER_HOPS promise hops for it). None found means the reply path outgrew the hops.
    expect(answerFlushes.calls - before.calls).toBeGreaterThanOrEqual(20);
    // Most, not all: a Ready that also carries something else (a lease checkpoint) may not.
    expect(answerFlushes.found - before.found).toBeGreaterThanOrEqual(15);
  });

  it('deletes a prefix and reports how many keys went', async () => {
    const { client } = running!;
    await client.put('d/1').value('1');
    await client.put('d/2').value('2');
    const result = await client.delete().prefix('d/');
    expect(result.deleted).toBe('2');
    expect(await client.getAll().prefix('d/').keys()).toEqual([]);
  });

  it('runs transactions against the compare outcome', async () => {
    const { client } = running!;
    await client.put('t').value('1');
    const hit = await client.if('t', 'Value', '==', '1').then(client.put('t').value('2')).else(client.put('t').value('x')).commit();
    expect(hit.succeeded).toBe(true);
    const miss = await client.if('t', 'Value', '==', '1').then(client.put('t').value('3')).else(client.get('t')).commit();
    expect(miss.succeeded).toBe(false);
    expect(await client.get('t').string()).toBe('2');
  });

  it('grants leases and deletes attached keys on revoke', async () => {
    const { client } = running!;
    const lease = client.lease(30, { autoKeepAlive: false });
    await lease.put('leased').value('v');
    const id = await lease.grant();
    expect(await client.get('leased').string()).toBe('v');
    await lease.revoke();
    expect(await client.get('leased').string()).toBeNull();
    expect(id).not.toBe('0');
  });

  it('keeps every acknowledged write across a restart', async () => {
    const { client, member } = running!;
    for (let i = 0; i < 20; i++) await client.put(`r/${i}`).value(String(i));
    const before = await client.get('r/19');
    expect(before).toBe('19');
    client.close();
    await member.close();
    running = await start(dataDir, ports);
    const after = await until(() => running!.client.getAll().prefix('r/').strings());
    expect(Object.keys(after)).toHaveLength(20);
    expect(after['r/7']).toBe('7');
    await until(async () => running!.client.put('after-restart').value('ok'));
    expect(await running!.client.get('after-restart').string()).toBe('ok');
  });
});
