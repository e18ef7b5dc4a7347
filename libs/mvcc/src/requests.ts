// Request and response shapes of the key-value API, field for field as etcd's
// RangeRequest/PutRequest/DeleteRangeRequest/TxnRequest (camelCase, enums with the
// protobuf numbers), minus the header, which the member fills in. Optional fields
// default to their protobuf zero value.
import type { KeyValue } from './types';

export enum SortOrder {
  NONE = 0,
  ASCEND = 1,
  DESCEND = 2,
}

export enum SortTarget {
  KEY = 0,
  VERSION = 1,
  CREATE = 2,
  MOD = 3,
  VALUE = 4,
}

export enum CompareResult {
  EQUAL = 0,
  GREATER = 1,
  LESS = 2,
  NOT_EQUAL = 3,
}

export enum CompareTarget {
  VERSION = 0,
  CREATE = 1,
  MOD = 2,
  VALUE = 3,
  LEASE = 4,
}

export interface RangeRequest {
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  /** 0 = no limit. */
  limit?: number;
  /** 0 = the current revision. */
  revision?: number;
  sortOrder?: SortOrder;
  sortTarget?: SortTarget;
  keysOnly?: boolean;
  countOnly?: boolean;
  minModRevision?: number;
  maxModRevision?: number;
  minCreateRevision?: number;
  maxCreateRevision?: number;
}

export interface RangeResponse {
  kvs: KeyValue[];
  more: boolean;
  /** Keys in the range at the read revision, before limit and the min/max filters. */
  count: number;
  /** The store revision the read ran against the state of (the header revision). */
  revision: number;
}

export interface PutRequest {
  key: Uint8Array;
  value?: Uint8Array;
  lease?: bigint;
  prevKv?: boolean;
  ignoreValue?: boolean;
  ignoreLease?: boolean;
}

export interface PutResponse {
  prevKv?: KeyValue;
  revision: number;
}

export interface DeleteRangeRequest {
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  prevKv?: boolean;
}

/** A RangeResponse whose kvs arrive in pages (MvccStore.rangePages); all pages concatenated = kvs. */
export interface RangePages {
  more: boolean;
  count: number;
  revision: number;
  pages: AsyncIterable<KeyValue[]>;
}

export interface DeleteRangeResponse {
  deleted: number;
  prevKvs: KeyValue[];
  revision: number;
}

export interface Compare {
  result: CompareResult;
  target: CompareTarget;
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  /** The operand for the chosen target (the others are ignored). */
  version?: number;
  createRevision?: number;
  modRevision?: number;
  value?: Uint8Array;
  lease?: bigint;
}

export type RequestOp =
  | { range: RangeRequest }
  | { put: PutRequest }
  | { deleteRange: DeleteRangeRequest }
  | { txn: TxnRequest };

export type ResponseOp =
  | { range: RangeResponse }
  | { put: PutResponse }
  | { deleteRange: DeleteRangeResponse }
  | { txn: TxnResponse };

export interface TxnRequest {
  compare?: Compare[];
  success?: RequestOp[];
  failure?: RequestOp[];
}

export interface TxnResponse {
  succeeded: boolean;
  responses: ResponseOp[];
  /** The store revision after the transaction. */
  revision: number;
}

export interface CompactResult {
  revision: number;
  /** Resolves when the superseded history is deleted from RocksDB (etcd's `physical`). */
  physical: Promise<void>;
}

export interface HashResult {
  hash: number;
  revision: number;
}

export interface HashKvResult {
  hash: number;
  /** The revision hashed up to. */
  revision: number;
  compactRevision: number;
}
