// Public surface of @keel/mvcc.
export * from './types';
export * from './errors';
export * from './requests';
export { MvccStore, type StoreOptions } from './store';
export { ApplyBatch, type ApplyMeta } from './apply-batch';
export type { LeaseHooks } from './write-ops';
export { KeySpace, KeySpaces, type KeySpaceName, MetaKey, AuthMetaKey, encodeId, decodeId, encodeU64, decodeU64 } from './keyspaces';
export { checkPutRequest, checkRangeRequest, checkTxnRequest, DEFAULT_MAX_TXN_OPS } from './txn-check';
export { type Revision, compareRevisions } from './revision';
export { type KeyIndex, type IndexedVersion, type KeyInterval, createKeyIndex } from './key-index';
export * from './watch';
export { decodeRecord as decodeHistoryRecord } from './kv-codec';
export { EtcdBucket } from './backend-size/etcd-layout';
