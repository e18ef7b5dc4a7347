// Backend sizes against real etcd 3.4: the seed's quota story (16 MiB quota, `put k v1`, 1 MiB
// puts 500 ms apart until refused, defrag, compact + defrag, disarm, put) with `endpoint status`
// read after every step. bin/member must report etcd's dbSize and dbSizeInUse exactly, since
// operators carry quota settings over from etcd.
//
// etcd itself varies now and then (about one paced run in ten on a quiet machine, more under
// load: a goroutine closing its read transaction late makes the file grow faster, see
// libs/mvcc/src/backend-size/README.md), so etcd is run again when it disagrees (see the test).
import { randomBytes } from 'node:crypto';
// Test-only use of the workspace test harness (a tool project).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { binPath, freePorts, killAll, makeTempDir, removeTempDirs, runCommand, startProcess, waitForPort } from '@keel/harness';
import { etcdctl, etcdctlOk, eventually } from './support';

afterAll(async () => {
  await killAll();
  removeTempDirs();
});

const MIB = 1024 * 1024;
const PACE_MS = 500;
/**
 * Real etcd runs of the story, at most, until one matches bin/member's. Four were too few under
 * a full CI run on 2026-12-07: bin/member printed etcd's common in-use figure after `put k v1`
 * (16384) and none of the four etcd runs of the same length did. Extra runs cost time only
 * when the first ones disagree.
 */
const ETCD_RUNS_MAX = 7;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function status(endpoint: string): Promise<string> {
  const [row] = JSON.parse(await etcdctlOk(endpoint, ['endpoint', 'status', '-w', 'json'])) as Array<{
    Status: { dbSize: number; dbSizeInUse: number };
  }>;
  return `${row!.Status.dbSize}/${row!.Status.dbSizeInUse}`;
}

/** Runs the story on a fresh server; returns "step size/inUse" lines. */
async function quotaStory(command: string): Promise<string[]> {
  const [clientPort, peerPort] = await freePorts(2);
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const server = startProcess(command, [
    `--data-dir=${makeTempDir('keel-size-')}`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=default=${peerUrl}`,
    `--quota-backend-bytes=${16 * MIB}`,
  ]);
  try {
    await waitForPort(clientPort!, 60_000);
    const endpoint = clientUrl.replace('http://', '');
    await eventually(() => etcdctlOk(endpoint, ['put', 'k', 'v1']), 30_000, 200); // once a leader is elected
    await sleep(PACE_MS);
    const seen = [`k ${await status(endpoint)}`];
    for (let i = 1; i <= 12; i++) {
      const value = randomBytes((MIB * 3) / 4).toString('base64'); // exactly 1 MiB of text
      const put = await etcdctl(endpoint, ['put', 'key'], value);
      if (put.code !== 0) {
        expect(put.stderr).toContain('etcdserver: mvcc: database space exceeded');
        seen.push(`put ${i} refused ${await status(endpoint)}`);
        break;
      }
      await sleep(PACE_MS);
      seen.push(`put ${i} ${await status(endpoint)}`);
    }
    await etcdctlOk(endpoint, ['defrag']);
    seen.push(`defrag ${await status(endpoint)}`);
    const { header } = JSON.parse(await etcdctlOk(endpoint, ['get', 'key', '-w', 'json'])) as { header: { revision: number } };
    await etcdctlOk(endpoint, ['compact', String(header.revision)]);
    await etcdctlOk(endpoint, ['defrag']);
    seen.push(`compact+defrag ${await status(endpoint)}`);
    await etcdctlOk(endpoint, ['alarm', 'disarm']);
    await etcdctlOk(endpoint, ['put', 'k', 'v2']);
    await sleep(PACE_MS);
    seen.push(`put k v2 ${await status(endpoint)}`);
    return seen;
  } finally {
    await server.kill();
  }
}

test('bin/member reports the backend sizes etcd 3.4 reports through the quota story', async () => {
  await runCommand(binPath('member'), ['--version'], { timeoutMs: 120_000 }); // rebuild once up front
  const keel = await quotaStory(binPath('member'));
  // etcd's figures depend on when its backend commits relative to each status read, so under
  // load its runs differ from each other (seen: in-use 20480 instead of 16384 after `put k v1`;
  // a bootstrap one page larger and 10 puts fitting). Up to ETCD_RUNS_MAX etcd runs are made
  // until one equals bin/member's whole story; failing that, every step of bin/member's story
  // must equal what some etcd run printed at that same step, and the runs must agree on how
  // many puts fit (the size that decides the quota is asserted step by step either way).
  const etcdRuns: string[][] = [];
  while (etcdRuns.length < ETCD_RUNS_MAX && !etcdRuns.some((run) => run.join('\n') === keel.join('\n'))) {
    etcdRuns.push(await quotaStory('etcd'));
  }
  const sameLength = etcdRuns.filter((run) => run.length === keel.length);
  expect(sameLength.length).toBeGreaterThan(0);
  const unmatched = keel.filter((line, step) => !sameLength.some((run) => run[step] === line));
  if (unmatched.length > 0) expect(keel).toEqual(sameLength[sameLength.length - 1]); // shows the full diff
  expect(unmatched).toEqual([]);
  // And the story is the seed's: 8 puts fit, the 9th is refused.
  expect(keel.filter((line) => line.includes('refused'))).toEqual([expect.stringMatching(/^put 9 refused/)]);
}, 400_000);
