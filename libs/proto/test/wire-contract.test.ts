// Keel's etcd-facing .proto files must describe the same wire format as etcd's own: same
// packages, message and enum names, field numbers, types and labels, and the same services
// and methods. Both sets are compiled with buf and their descriptors compared, so this
// checks the wire contract itself rather than the text. Keel may add only the fields and
// methods of later etcd releases, listed below.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const projectDir = path.resolve(__dirname, '..');
const bufBin = path.resolve(projectDir, '../../node_modules/.bin/buf');
const goSrc = '/usr/share/gocode/src';
const etcdSrc = path.join(goSrc, 'go.etcd.io/etcd');

const etcdFiles = [
  'etcdserver/etcdserverpb/rpc.proto',
  'mvcc/mvccpb/kv.proto',
  'auth/authpb/auth.proto',
  'etcdserver/api/v3election/v3electionpb/v3election.proto',
  'etcdserver/api/v3lock/v3lockpb/v3lock.proto',
];
// etcd's files import these for code-generation options only; they do not affect the wire.
const optionImports: Record<string, string> = {
  'gogoproto/gogo.proto': 'github.com/gogo/protobuf/gogoproto/gogo.proto',
  'google/api/annotations.proto': 'github.com/grpc-ecosystem/grpc-gateway/third_party/googleapis/google/api/annotations.proto',
  'google/api/http.proto': 'github.com/grpc-ecosystem/grpc-gateway/third_party/googleapis/google/api/http.proto',
};
const etcdPackages = new Set(['etcdserverpb', 'mvccpb', 'authpb', 'v3electionpb', 'v3lockpb']);

/** Additions of etcd 3.5/3.6 that Keel carries on top of 3.4, as "<element> <member>". */
const laterAdditions = [
  'etcdserverpb.MemberListRequest field linearizable',
  'etcdserverpb.AuthUserAddRequest field hashedPassword',
  'etcdserverpb.AuthUserChangePasswordRequest field hashedPassword',
  'etcdserverpb.HashKVResponse field hash_revision',
  'etcdserverpb.SnapshotResponse field version',
  'etcdserverpb.StatusResponse field storageVersion',
  'etcdserverpb.StatusResponse field dbSizeQuota',
  'etcdserverpb.StatusResponse field downgradeInfo',
  'etcdserverpb.DowngradeRequest message',
  'etcdserverpb.DowngradeRequest.DowngradeAction enum',
  'etcdserverpb.DowngradeResponse message',
  'etcdserverpb.DowngradeInfo message',
  'etcdserverpb.AuthStatusRequest message',
  'etcdserverpb.AuthStatusResponse message',
  'etcdserverpb.Maintenance method Downgrade',
  'etcdserverpb.Auth method AuthStatus',
].sort();

interface FieldDescriptor {
  name: string;
  number: number;
  label: string;
  type: string;
  typeName?: string;
  oneofIndex?: number;
}
interface MessageDescriptor {
  name: string;
  field?: FieldDescriptor[];
  nestedType?: MessageDescriptor[];
  enumType?: EnumDescriptor[];
  oneofDecl?: { name: string }[];
}
interface EnumDescriptor {
  name: string;
  value: { name: string; number: number }[];
}
interface ServiceDescriptor {
  name: string;
  method: { name: string; inputType: string; outputType: string; clientStreaming?: boolean; serverStreaming?: boolean }[];
}
interface FileDescriptor {
  name: string;
  package?: string;
  messageType?: MessageDescriptor[];
  enumType?: EnumDescriptor[];
  service?: ServiceDescriptor[];
}

/** Every wire-relevant fact, keyed "<element> <kind> <member>" with a comparable value. */
function wireFacts(files: FileDescriptor[]): Map<string, string> {
  const facts = new Map<string, string>();
  const addEnum = (scope: string, e: EnumDescriptor) => {
    facts.set(`${scope}.${e.name} enum`, '');
    for (const v of e.value) facts.set(`${scope}.${e.name} value ${v.name}`, String(v.number));
  };
  const addMessage = (scope: string, m: MessageDescriptor) => {
    const name = `${scope}.${m.name}`;
    facts.set(`${name} message`, '');
    for (const f of m.field ?? []) {
      const oneof = f.oneofIndex === undefined ? '' : (m.oneofDecl?.[f.oneofIndex]?.name ?? '?');
      facts.set(`${name} field ${f.name}`, [f.number, f.label, f.type, f.typeName ?? '', oneof].join(' '));
    }
    for (const nested of m.nestedType ?? []) addMessage(name, nested);
    for (const e of m.enumType ?? []) addEnum(name, e);
  };
  for (const file of files) {
    const pkg = file.package ?? '';
    if (!etcdPackages.has(pkg)) continue;
    for (const m of file.messageType ?? []) addMessage(pkg, m);
    for (const e of file.enumType ?? []) addEnum(pkg, e);
    for (const s of file.service ?? []) {
      facts.set(`${pkg}.${s.name} service`, '');
      for (const m of s.method) {
        const shape = [m.inputType, m.outputType, m.clientStreaming === true, m.serverStreaming === true];
        facts.set(`${pkg}.${s.name} method ${m.name}`, shape.join(' '));
      }
    }
  }
  return facts;
}

function buildImage(dir: string): FileDescriptor[] {
  const json = execFileSync(bufBin, ['build', '.', '-o', '-#format=json'], { cwd: dir, maxBuffer: 64 << 20 });
  return (JSON.parse(json.toString()) as { file: FileDescriptor[] }).file;
}

const referenceInstalled = fs.existsSync(path.join(etcdSrc, etcdFiles[0]!));
// The reference is Debian's golang-etcd-server-dev; without it there is nothing to compare.
const describeWithReference = referenceInstalled ? describe : describe.skip;

describeWithReference('wire contract against etcd 3.4 .proto files', () => {
  let referenceDir: string;
  let reference: Map<string, string>;
  let keel: Map<string, string>;

  beforeAll(() => {
    referenceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-etcd-proto-'));
    const copy = (from: string, to: string) => {
      fs.mkdirSync(path.dirname(path.join(referenceDir, to)), { recursive: true });
      fs.copyFileSync(from, path.join(referenceDir, to));
    };
    for (const file of etcdFiles) copy(path.join(etcdSrc, file), path.join('etcd', file));
    for (const [to, from] of Object.entries(optionImports)) copy(path.join(goSrc, from), to);
    reference = wireFacts(buildImage(referenceDir));
    keel = wireFacts(buildImage(path.join(projectDir, 'proto')));
  }, 60_000);

  afterAll(() => {
    fs.rmSync(referenceDir, { recursive: true, force: true });
  });

  it('found the reference definitions', () => {
    expect(reference.get('etcdserverpb.KV method Range')).toBe(
      '.etcdserverpb.RangeRequest .etcdserverpb.RangeResponse false false',
    );
    expect(reference.size).toBeGreaterThan(400);
  });

  it('has every etcd message, field, enum value, service and method with the same wire shape', () => {
    const mismatches: string[] = [];
    for (const [fact, value] of reference) {
      const ours = keel.get(fact);
      if (ours !== value) mismatches.push(`${fact}: etcd "${value}", keel "${ours ?? 'missing'}"`);
    }
    expect(mismatches).toEqual([]);
  });

  it('adds nothing beyond the listed later-release additions', () => {
    const extras = [...keel.keys()].filter((fact) => !reference.has(fact));
    // Members of an added message or enum come with it.
    const addedElements = laterAdditions.filter((a) => / (message|enum)$/.test(a)).map((a) => a.split(' ')[0]);
    const unexplained = extras.filter(
      (fact) => !laterAdditions.includes(fact) && !addedElements.includes(fact.split(' ')[0]),
    );
    expect(unexplained).toEqual([]);
    expect(laterAdditions.filter((a) => !extras.includes(a))).toEqual([]);
  });
});
