import type { etcdserverpb } from '@keel/proto';
import { checkPut, checkTxn } from './kv-validate';

const put = (key: string): etcdserverpb.RequestOp => ({
  request: {
    $case: 'requestPut',
    value: { key: Buffer.from(key), value: Buffer.from('v'), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false },
  },
});
const del = (key: string, rangeEnd = ''): etcdserverpb.RequestOp => ({
  request: { $case: 'requestDeleteRange', value: { key: Buffer.from(key), rangeEnd: Buffer.from(rangeEnd), prevKv: false } },
});
const txn = (success: etcdserverpb.RequestOp[], failure: etcdserverpb.RequestOp[] = []): etcdserverpb.TxnRequest => ({
  compare: [],
  success,
  failure,
});
const nested = (t: etcdserverpb.TxnRequest): etcdserverpb.RequestOp => ({ request: { $case: 'requestTxn', value: t } });

describe('KV request checks', () => {
  it('refuses empty keys and ignore_* combined with a value or lease', () => {
    const base = { key: Buffer.from('k'), value: Buffer.alloc(0), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false };
    expect(() => checkPut({ ...base, key: Buffer.alloc(0) })).toThrow('etcdserver: key is not provided');
    expect(() => checkPut({ ...base, ignoreValue: true, value: Buffer.from('x') })).toThrow('etcdserver: value is provided');
    expect(() => checkPut({ ...base, ignoreLease: true, lease: 5n })).toThrow('etcdserver: lease is provided');
    expect(() => checkPut(base)).not.toThrow();
  });

  it('counts txn operations against the limit', () => {
    expect(() => checkTxn(txn([put('a'), put('b'), put('c')]), 2)).toThrow('etcdserver: too many operations in txn request');
    expect(() => checkTxn(txn([put('a'), put('b')]), 2)).not.toThrow();
  });

  it('refuses a branch that writes one key twice or puts a key it deletes', () => {
    const dup = 'etcdserver: duplicate key given in txn request';
    expect(() => checkTxn(txn([put('a'), put('a')]), 128)).toThrow(dup);
    expect(() => checkTxn(txn([del('a', 'c'), put('b')]), 128)).toThrow(dup);
    expect(() => checkTxn(txn([nested(txn([put('x')])), put('x')]), 128)).toThrow(dup);
    // Different branches, and then/else of a nested txn, exclude each other.
    expect(() => checkTxn(txn([put('a')], [put('a')]), 128)).not.toThrow();
    expect(() => checkTxn(txn([nested(txn([put('x')], [put('x')]))]), 128)).not.toThrow();
    expect(() => checkTxn(txn([del('a'), put('b')]), 128)).not.toThrow();
  });
});
