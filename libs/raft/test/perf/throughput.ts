// Micro-benchmark of the library's hot path: proposal → append → App → AppResp → commit →
// apply, for a 3-node in-process cluster over MemoryStorage (no I/O, no encoding).
// Run: npx esbuild libs/raft/test/perf/throughput.ts --bundle --platform=node --outfile=/tmp/raft-throughput.js && node /tmp/raft-throughput.js
import { RawNode } from '../../src/rawnode';
import { MemoryStorage } from '../../src/storage';
import { type Message, StateType } from '../../src/types';

interface BenchNode {
  node: RawNode;
  storage: MemoryStorage;
  applied: number;
}

function makeCluster(): BenchNode[] {
  const peers = [1n, 2n, 3n].map((id) => ({ id }));
  return peers.map(({ id }) => {
    const storage = new MemoryStorage();
    const node = new RawNode({ id, electionTick: 10, heartbeatTick: 1, storage, maxSizePerMsg: 1 << 20, maxInflightMsgs: 256 });
    node.bootstrap(peers);
    return { node, storage, applied: 0 };
  });
}

function pump(nodes: BenchNode[]): void {
  for (;;) {
    const msgs: Message[] = [];
    for (const n of nodes) {
      while (n.node.hasReady()) {
        const rd = n.node.ready();
        n.storage.append(rd.entries);
        if (rd.hardState) n.storage.setHardState(rd.hardState);
        n.applied += rd.committedEntries.length;
        for (const m of rd.messages) msgs.push(m);
        n.node.advance(rd);
      }
    }
    if (msgs.length === 0) return;
    for (const m of msgs) nodes[Number(m.to) - 1]!.node.step(m);
  }
}

function run(totalProposals: number, batch: number, payloadBytes: number): void {
  const nodes = makeCluster();
  pump(nodes);
  nodes[0]!.node.campaign();
  pump(nodes);
  if (nodes[0]!.node.status().softState.raftState !== StateType.Leader) throw new Error('no leader');
  const leader = nodes[0]!.node;
  const payload = new Uint8Array(payloadBytes);
  const start = process.hrtime.bigint();
  for (let done = 0; done < totalProposals; done += batch) {
    for (let i = 0; i < batch; i++) leader.propose(payload);
    pump(nodes);
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const perSec = Math.round((totalProposals / ms) * 1000);
  console.log(`batch=${batch} payload=${payloadBytes}B proposals=${totalProposals}: ${ms.toFixed(0)} ms, ${perSec} proposals/s committed+applied on 3 nodes`);
}

for (const batch of [1, 16, 256]) run(batch === 1 ? 50_000 : 200_000, batch, 128);
