// The normalizer must remove run-specific values and nothing else: these cases use outputs
// recorded from etcdctl 3.4.23 against two different etcd members.
import { canonicalizeTables, normalizeOutput } from './normalize';
import { lineDiff } from './compare';
import { pseudoRandomBytes } from './replay';

const runA = { clientPort: 23792, peerPort: 23802, memberId: '185828541645115251', clusterId: '8140765981764738059' };
const runB = { clientPort: 41001, peerPort: 41002, memberId: '13668033151171901709', clusterId: '15118495548433857066' };

function statusTable(endpoint: string, idHex: string, dbSize: string, raftIndex: string): string {
  const header = ['ENDPOINT', 'ID', 'VERSION', 'DB SIZE', 'IS LEADER', 'IS LEARNER', 'RAFT TERM', 'RAFT INDEX', 'RAFT APPLIED INDEX', 'ERRORS'];
  const row = [endpoint, idHex, '3.4.23', dbSize, 'true', 'false', '2', raftIndex, raftIndex, ''];
  const widths = header.map((h, i) => Math.max(h.length, row[i]!.length));
  const border = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const line = (cells: string[]) => `|${cells.map((c, i) => ` ${c.padStart(widths[i]!)} `).join('|')}|`;
  return [border, line(header), border, line(row), border, ''].join('\n');
}

describe('normalizeOutput', () => {
  it('makes two members\' JSON headers equal but keeps revisions', () => {
    const json = (run: typeof runA, revision: number) =>
      `{"header":{"cluster_id":${run.clusterId},"member_id":${run.memberId},"revision":${revision},"raft_term":2},"count":0}`;
    expect(normalizeOutput(json(runA, 3), runA)).toBe(normalizeOutput(json(runB, 3), runB));
    expect(normalizeOutput(json(runA, 3), runA)).not.toBe(normalizeOutput(json(runB, 4), runB));
  });

  it('makes endpoint status tables of different widths equal, but not when the raft index differs', () => {
    const tableA = statusTable(`http://127.0.0.1:${runA.clientPort}`, BigInt(runA.memberId).toString(16), '20 kB', '4');
    const tableB = statusTable(`http://127.0.0.1:${runB.clientPort}`, BigInt(runB.memberId).toString(16), '2.1 MB', '4');
    expect(tableA.split('\n')[0]!.length).not.toBe(tableB.split('\n')[0]!.length);
    expect(normalizeOutput(tableA, runA)).toBe(normalizeOutput(tableB, runB));
    const tableC = statusTable(`http://127.0.0.1:${runB.clientPort}`, BigInt(runB.memberId).toString(16), '2.1 MB', '5');
    expect(normalizeOutput(tableA, runA)).not.toBe(normalizeOutput(tableC, runB));
  });

  it('replaces the decimal member ID in alarms and keeps the alarm text', () => {
    expect(normalizeOutput(`memberID:${runA.memberId} alarm:NOSPACE \n`, runA)).toBe('memberID:<member-id> alarm:NOSPACE \n');
  });

  it('does not touch a number that merely contains an ID or port', () => {
    expect(normalizeOutput(`revision ${runA.clientPort}0 and 9${runA.memberId}`, runA)).toBe(`revision ${runA.clientPort}0 and 9${runA.memberId}`);
  });

  it('replaces timestamps and client UUIDs in etcdctl warnings but keeps the error', () => {
    const warning = (ts: string, uuid: string) =>
      `{"level":"warn","ts":"${ts}","caller":"clientv3/retry_interceptor.go:62","msg":"retrying of unary invoker failed","target":"endpoint://client-${uuid}/127.0.0.1:${runA.clientPort}","attempt":0,"error":"rpc error: code = ResourceExhausted desc = etcdserver: mvcc: database space exceeded"}`;
    const first = normalizeOutput(warning('2026-11-24T04:23:54.453Z', '6cf0c7c6-fb85-4b20-abeb-0590d90f9ba2'), runA);
    expect(first).toBe(normalizeOutput(warning('2026-11-24T05:00:00.001Z', 'ec558b2b-6b41-47e7-8398-93dee775a560'), runA));
    expect(first).toContain('code = ResourceExhausted desc = etcdserver: mvcc: database space exceeded');
  });

  it('digests long base64 values so a changed byte still shows', () => {
    const value = pseudoRandomBytes(4096, 7);
    const json = (bytes: Buffer) => `{"kvs":[{"key":"a2V5","value":"${bytes.toString('base64')}"}]}`;
    const changed = Buffer.from(value);
    changed[100] = (changed[100]! + 1) % 256;
    expect(normalizeOutput(json(value), {})).toMatch(/"value":"<4096 bytes, sha256 [0-9a-f]{16}>"/);
    expect(normalizeOutput(json(value), {})).not.toBe(normalizeOutput(json(changed), {}));
  });
});

describe('canonicalizeTables', () => {
  it('keeps continuation rows of multi-line cells', () => {
    const table = ['+---+-----------------+', '| A |       ERRORS    |', '+---+-----------------+', '| x |  memberID:1 |', '|   |  alarm:NOSPACE  |', '+---+-----------------+'].join('\n');
    expect(canonicalizeTables(table).split('\n').slice(3, 5)).toEqual(['| x | memberID:1    |', '|   | alarm:NOSPACE |']);
  });
});

describe('lineDiff', () => {
  it('marks removed and added lines around common ones', () => {
    expect(lineDiff(['PUT', '/k1', 'v1.1'], ['PUT', '/k1', 'v1'])).toEqual(['    PUT', '    /k1', '  - v1.1', '  + v1']);
  });
});
