// The etcdserverpb.KV service. Writes go through raft; linearizable reads wait for a ReadIndex
// round and then read local state; serializable reads read local state at once.
import type { etcdserverpb } from '@keel/proto';
import type { ServiceHandlers } from '../rpc/types';
import type { KVService } from './services';
import { stampHeader, type HeaderFn } from './header';
import { checkDelete, checkPut, checkRange, checkTxn } from './kv-validate';
import { toClientError } from './errors';
import type { Proposer } from '../server/proposer';
import type { CompactionOutcome } from '../apply/appliers';
import { putCost, txnCost } from '../apply/quota';

export interface KvServiceDeps {
  proposer: Pick<Proposer, 'propose'>;
  /** Resolves once local state is at least as new as the cluster's at call time. */
  waitReadable(): Promise<void>;
  /** Reads local state (apply layer's range). Sets header.revision. */
  readRange(request: etcdserverpb.RangeRequest): Promise<etcdserverpb.RangeResponse>;
  header: HeaderFn;
  txnOpsMax: number;
  /** Refuses writes that would exceed the backend quota (cost as etcd's, see apply/quota.ts). */
  quota?: { check(cost: number): void };
}

async function clientErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toClientError(error);
  }
}

export function kvHandlers(deps: KvServiceDeps): ServiceHandlers<typeof KVService> {
  return {
    range: (request) =>
      clientErrors(async () => {
        checkRange(request);
        if (!request.serializable) await deps.waitReadable();
        return stampHeader(await deps.readRange(request), deps.header);
      }),
    put: (request) =>
      clientErrors(async () => {
        // etcd's quota interceptor runs before the request is validated.
        deps.quota?.check(putCost(request));
        checkPut(request);
        const response = await deps.proposer.propose<etcdserverpb.PutResponse>({ $case: 'put', value: request });
        return stampHeader(response, deps.header);
      }),
    deleteRange: (request) =>
      clientErrors(async () => {
        checkDelete(request);
        const response = await deps.proposer.propose<etcdserverpb.DeleteRangeResponse>({
          $case: 'deleteRange',
          value: request,
        });
        return stampHeader(response, deps.header);
      }),
    txn: (request) =>
      clientErrors(async () => {
        deps.quota?.check(txnCost(request));
        checkTxn(request, deps.txnOpsMax);
        const response = await deps.proposer.propose<etcdserverpb.TxnResponse>({ $case: 'txn', value: request });
        return stampHeader(response, deps.header);
      }),
    compact: (request) =>
      clientErrors(async () => {
        const { physical, ...response } = await deps.proposer.propose<CompactionOutcome>({
          $case: 'compaction',
          value: request,
        });
        if (request.physical) await physical;
        return stampHeader(response, deps.header);
      }),
  };
}
