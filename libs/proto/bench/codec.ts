/**
 * Codec micro-benchmark (not a test): encode+decode round trips per second of the
 * messages on Keel's hot paths.
 *
 *   cd libs/proto && npm run bench            # or: node scripts/run-ts.mjs bench/codec.ts
 *
 * Each case runs a warm-up, then several timed rounds of at least 300 ms; the median
 * round is reported. Round trip (rt), encode-only and decode-only figures are given, with
 * the generated serializers' encoding and with encodeToBuffer's shared writer.
 */
import { encodeToBuffer, type Encoder, etcdserverpb, internal, mvccpb } from '../src/index';

interface Codec<T> extends Encoder<T> {
  decode(bytes: Uint8Array): T;
}

interface Case {
  name: string;
  bytes: Uint8Array;
  /** What the generated grpc-js serializers do. */
  encodeGenerated(): Buffer;
  encodeShared(): Buffer;
  decode(bytes: Uint8Array): unknown;
}

function makeCase<T>(name: string, codec: Codec<T>, message: T): Case {
  return {
    name,
    bytes: codec.encode(message).finish(),
    encodeGenerated: () => Buffer.from(codec.encode(message).finish()),
    encodeShared: () => encodeToBuffer(codec, message),
    decode: (bytes) => codec.decode(bytes),
  };
}

function kv(i: number): mvccpb.KeyValue {
  return {
    key: Buffer.from(`/registry/pods/default/pod-${String(i).padStart(4, '0')}`),
    value: Buffer.alloc(256, 0x61),
    createRevision: 1000n + BigInt(i),
    modRevision: 2000n + BigInt(i),
    version: 3n,
    lease: 0x694d7a1b2c3d4e5fn,
  };
}

const header: etcdserverpb.ResponseHeader = {
  clusterId: 0xcdf818194e3a8c32n,
  memberId: 0x8e9e05c52164694dn,
  revision: 123456n,
  raftTerm: 7n,
};

const put = etcdserverpb.PutRequest.fromPartial({
  key: Buffer.from('/registry/pods/default/pod-0001'),
  value: Buffer.alloc(256, 0x61),
  lease: 0x694d7a1b2c3d4e5fn,
});

const cases: Case[] = [
  makeCase('PutRequest (32 B key, 256 B value, lease)', etcdserverpb.PutRequest, put),
  makeCase('RangeResponse (10 kvs of 256 B)', etcdserverpb.RangeResponse, {
    header,
    kvs: Array.from({ length: 10 }, (_, i) => kv(i)),
    more: false,
    count: 10n,
  }),
  makeCase('InternalRaftRequest (put)', internal.InternalRaftRequest, {
    header: { id: 0x1234_5678_9abc_def0n, username: '', authRevision: 0n },
    request: { $case: 'put', value: put },
  }),
];

function opsPerSecond(operation: () => void): number {
  const roundMs = 300;
  const rounds: number[] = [];
  for (let round = 0; round < 6; round++) {
    let count = 0;
    const start = process.hrtime.bigint();
    let elapsedNs = 0n;
    while (elapsedNs < BigInt(roundMs) * 1_000_000n) {
      for (let i = 0; i < 1000; i++) operation();
      count += 1000;
      elapsedNs = process.hrtime.bigint() - start;
    }
    // The first round is warm-up (JIT tiers up during it).
    if (round > 0) rounds.push(count / (Number(elapsedNs) / 1e9));
  }
  rounds.sort((a, b) => a - b);
  return rounds[Math.floor(rounds.length / 2)]!;
}

const format = (n: number) => Math.round(n).toLocaleString('en-US').padStart(12);

let sink = 0;
console.log(`node ${process.version}, ${new Date().toISOString()}`);
console.log('ops/s; "generated" = Buffer.from(X.encode(m).finish()) as the generated grpc-js serializers do;');
console.log('"shared" = encodeToBuffer (one reused writer, no extra copy); decode = X.decode(bytes)\n');
console.log(
  'case'.padEnd(44),
  'bytes',
  ' rt generated',
  '   rt shared',
  ' enc generated',
  '  enc shared',
  '      decode',
);
for (const { name, bytes, encodeGenerated, encodeShared, decode } of cases) {
  const figures = [
    opsPerSecond(() => {
      sink += decode(encodeGenerated()) === undefined ? 1 : 0;
    }),
    opsPerSecond(() => {
      sink += decode(encodeShared()) === undefined ? 1 : 0;
    }),
    opsPerSecond(() => {
      sink += encodeGenerated().length;
    }),
    opsPerSecond(() => {
      sink += encodeShared().length;
    }),
    opsPerSecond(() => {
      sink += decode(bytes) === undefined ? 1 : 0;
    }),
  ];
  console.log(name.padEnd(44), String(bytes.length).padStart(5), ...figures.map(format));
}
if (sink === -1) console.log(sink);
