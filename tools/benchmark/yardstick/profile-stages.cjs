// Usage: node profile-stages.cjs <profile.cpuprofile> <bundle main.js (with .map beside it)> <requests served>
// Prints a Markdown table of CPU time per stage. Samples are wall-clock, so on a loaded machine
// scale the shares by measured process CPU rather than trusting the absolute milliseconds.
// Attributes each CPU-profile sample to a stage: walk from the leaf up to the first frame whose
// location says which part of the system it belongs to (bundle frames via the source map).
const fs = require('fs'); const { SourceMap } = require('module');
const [prof, bundle, requests] = process.argv.slice(2);
const p = JSON.parse(fs.readFileSync(prof));
const sm = new SourceMap(JSON.parse(fs.readFileSync(bundle + '.map')));
const nodes = new Map(p.nodes.map((n) => [n.id, n])); const parent = new Map();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const srcCache = new Map();
function source(n) {
  if (srcCache.has(n.id)) return srcCache.get(n.id);
  const cf = n.callFrame; let s = cf.url;
  if (cf.url.endsWith(bundle.replace(/^.*\//, '/'))) { const e = sm.findEntry(cf.lineNumber, cf.columnNumber); s = e.originalSource ?? 'bundle?'; }
  srcCache.set(n.id, s); return s;
}
function classify(src) {
  const rules = [
    [/libs\/raft\//, 'raft (libs/raft)'], [/libs\/wal\//, 'WAL encode/write (libs/wal)'], [/libs\/mvcc\/src\/watch/, 'watch hub (libs/mvcc)'],
    [/libs\/mvcc\//, 'mvcc apply/index (libs/mvcc)'], [/libs\/proto\//, 'proto encode/decode (libs/proto)'], [/@bufbuild|ts-proto|binary-encoding/, 'proto encode/decode (libs/proto)'],
    [/sorted-btree/, 'mvcc apply/index (libs/mvcc)'], [/rocksdb/, 'RocksDB batch (native binding)'], [/prom-client/, 'metrics (prom-client)'], [/pino/, 'logging'],
    [/apps\/member\/src\/rpc\//, 'gRPC server layer (apps/member rpc)'], [/apps\/member\/src\/api\//, 'KV service handlers (api)'], [/apps\/member\/src\/apply\//, 'apply chain (apps/member apply)'],
    [/apps\/member\/src\/server\/(raft-loop|wal-log)/, 'raft loop (server)'], [/apps\/member\/src\/server\/(proposer|wait|request-id)/, 'propose/wait (server)'],
    [/apps\/member\/src\/server\/read-index/, 'read index (server)'], [/apps\/member\/src\/observability/, 'metrics (prom-client)'], [/apps\/member\/src\//, 'other member code'],
    [/node:internal\/http2|node:http2/, 'node:http2 (framing, streams)'], [/stream_base_commons|node:net/, 'socket I/O'],
    [/node:internal\/(modules|main|bootstrap)|package_json|loader/, 'startup (module loading)'], [/fs\/promises|node:fs/, 'WAL encode/write (libs/wal)'],
  ];
  for (const [re, name] of rules) if (re.test(src)) return name;
  return undefined;
}
const dt = new Map(); p.samples.forEach((s, i) => dt.set(s, (dt.get(s) ?? 0) + p.timeDeltas[i]));
const byStage = new Map(); let total = 0;
for (const [id, t] of dt) {
  let n = nodes.get(id); const leaf = n.callFrame.functionName; let stage;
  if (leaf === '(idle)') stage = 'idle'; else if (leaf === '(garbage collector)') stage = 'GC (garbage collector)'; else if (leaf === '(program)') stage = '(program) native, unattributed';
  for (let j = id; !stage && j !== undefined; j = parent.get(j)) stage = classify(source(nodes.get(j)));
  stage ??= 'other (node internals: timers, microtasks, events)';
  byStage.set(stage, (byStage.get(stage) ?? 0) + t); if (stage !== 'idle') total += t;
}
const req = Number(requests);
console.log(`| stage | CPU ms | share of busy | µs/request (${req} requests) |`); console.log('|---|---:|---:|---:|');
for (const [s, t] of [...byStage].sort((a, b) => b[1] - a[1])) if (s !== 'idle') console.log(`| ${s} | ${(t / 1000).toFixed(0)} | ${(100 * t / total).toFixed(1)}% | ${(t / req).toFixed(1)} |`);
console.log(`| **busy total** | ${(total / 1000).toFixed(0)} | 100% | ${(total / req).toFixed(1)} |`);
