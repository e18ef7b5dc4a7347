import fs from 'node:fs';
import { status } from '@grpc/grpc-js';
import { etcdErrorNameOf, etcdErrors, etcdServiceError, type EtcdErrorName } from '../src/index';

const errorGo = '/usr/share/gocode/src/go.etcd.io/etcd/etcdserver/api/v3rpc/rpctypes/error.go';

/** gRPC code names as Go spells them (codes.OutOfRange) mapped to grpc-js numbers. */
function goCode(name: string): number {
  const screaming = name.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
  const code = (status as unknown as Record<string, number>)[screaming === 'CANCELED' ? 'CANCELLED' : screaming];
  if (code === undefined) throw new Error(`unknown gRPC code ${name}`);
  return code;
}

const describeWithReference = fs.existsSync(errorGo) ? describe : describe.skip;

describeWithReference('etcd error table against rpctypes/error.go', () => {
  const source = fs.existsSync(errorGo) ? fs.readFileSync(errorGo, 'utf8') : '';
  const reference = [...source.matchAll(/status\.New\(codes\.(\w+), "([^"]+)"\)/g)].map((m) => ({
    code: goCode(m[1]!),
    message: m[2]!,
  }));

  it('parsed the reference', () => {
    expect(reference.length).toBeGreaterThan(50);
  });

  it('has every etcd error with the same code and text', () => {
    const missing = reference.filter((ref) => {
      const name = etcdErrorNameOf(ref.message);
      return name === undefined || etcdErrors[name].code !== ref.code;
    });
    expect(missing).toEqual([]);
  });

  it('has nothing etcd does not have', () => {
    const texts = new Set(reference.map((r) => r.message));
    const extra = Object.values(etcdErrors).filter((e) => !texts.has(e.message));
    expect(extra).toEqual([]);
  });
});

describe('etcdServiceError', () => {
  it.each<[EtcdErrorName, number, string]>([
    ['Compacted', status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'],
    ['NoSpace', status.RESOURCE_EXHAUSTED, 'etcdserver: mvcc: database space exceeded'],
    ['LeaseNotFound', status.NOT_FOUND, 'etcdserver: requested lease not found'],
    ['NoLeader', status.UNAVAILABLE, 'etcdserver: no leader'],
    ['RequestTooLarge', status.INVALID_ARGUMENT, 'etcdserver: request is too large'],
  ])('%s carries code %d and the exact text', (name, code, text) => {
    const error = etcdServiceError(name);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe(code);
    expect(error.details).toBe(text);
    expect(error.message).toBe(text);
    expect(error.metadata.getMap()).toEqual({});
  });

  it('maps texts back to names and ignores unknown texts', () => {
    expect(etcdErrorNameOf('etcdserver: duplicate key given in txn request')).toBe('DuplicateKey');
    expect(etcdErrorNameOf('etcdserver: something else')).toBeUndefined();
  });

  it('keeps every text unique so the reverse lookup is unambiguous', () => {
    const texts = Object.values(etcdErrors).map((e) => e.message);
    expect(new Set(texts).size).toBe(texts.length);
  });
});
