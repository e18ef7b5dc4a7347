// StatePort and the maintenance BackendView over @keel/mvcc's MvccStore, converting between
// etcd's wire shapes and the store's (mvcc-convert.ts).
import { KeySpaces, MvccStore, type KeySpaceName, type LeaseHooks } from '@keel/mvcc';
import type { etcdserverpb } from '@keel/proto';
import type { BackendView } from '../api/maintenance-service';
import type { StatePort, StoreBatch } from './store-port';
import {
  deleteFromMvcc,
  deleteToMvcc,
  putFromMvcc,
  putToMvcc,
  rangeFromMvcc,
  rangeToMvcc,
  txnFromMvcc,
  txnToMvcc,
} from './mvcc-convert';

type MvccBatch = Awaited<ReturnType<MvccStore['beginBatch']>>;

/** The apply chain's view of one store batch; a class, so a batch costs one object, not ten closures. */
class BatchPort implements StoreBatch {
  constructor(private readonly batch: MvccBatch) {}

  async range(r: etcdserverpb.RangeRequest): Promise<etcdserverpb.RangeResponse> {
    return rangeFromMvcc(await this.batch.range(rangeToMvcc(r)));
  }

  async put(r: etcdserverpb.PutRequest): Promise<etcdserverpb.PutResponse> {
    return putFromMvcc(await this.batch.put(putToMvcc(r)));
  }

  async deleteRange(r: etcdserverpb.DeleteRangeRequest): Promise<etcdserverpb.DeleteRangeResponse> {
    return deleteFromMvcc(await this.batch.deleteRange(deleteToMvcc(r)));
  }

  async txn(r: etcdserverpb.TxnRequest): Promise<etcdserverpb.TxnResponse> {
    return txnFromMvcc(await this.batch.txn(txnToMvcc(r)));
  }

  compact(revision: number): { physical: Promise<void> } {
    return { physical: this.batch.compact(revision).physical };
  }

  rawPut(space: KeySpaceName, key: Uint8Array, value: Uint8Array): void {
    this.batch.rawPut(KeySpaces[space], key, value);
  }

  rawDelete(space: KeySpaceName, key: Uint8Array): void {
    this.batch.rawDelete(KeySpaces[space], key);
  }

  holdReadsUntilCommit(): void {
    this.batch.holdReadsUntilCommit();
  }

  commit(appliedIndex: number, appliedTerm: number): Promise<void> {
    return this.batch.commit({ appliedIndex, term: appliedTerm });
  }
}

export function statePortOf(store: MvccStore): StatePort {
  return {
    begin: async () => new BatchPort(await store.beginBatch()),
    range: async (r) => rangeFromMvcc(await store.range(rangeToMvcc(r))),
    currentRevision: () => store.currentRevision(),
    compactRevision: () => store.compactRevision(),
    appliedIndex: () => store.appliedIndex(),
    appliedTerm: () => store.term(),
    rawScan: async (space) => {
      const out: Array<{ key: Buffer; value: Buffer }> = [];
      for await (const [key, value] of store.scanRaw(KeySpaces[space])) out.push({ key, value });
      return out;
    },
  };
}

/**
 * Keel's snapshot image: every record of every key space as
 * [u32 key length][key with its space prefix][u32 value length][value], in key order.
 */
async function snapshotImage(store: MvccStore): Promise<{ image: Buffer; revision: number }> {
  // Holding the store's batch turn keeps applies out while the key spaces are scanned one after
  // another, so the image is one point in time (history, meta and applied index agree).
  const turn = await store.beginBatch();
  try {
    const revision = store.currentRevision();
    const parts: Buffer[] = [];
    for (const space of Object.values(KeySpaces)) {
      for await (const [suffix, value] of store.scanRaw(space)) {
        const key = space.key(suffix);
        const head = Buffer.alloc(4);
        head.writeUInt32BE(key.length);
        const mid = Buffer.alloc(4);
        mid.writeUInt32BE(value.length);
        parts.push(head, key, mid, value);
      }
    }
    return { image: Buffer.concat(parts), revision };
  } finally {
    await turn.commit();
  }
}

export function backendViewOf(store: MvccStore): BackendView {
  return {
    sizes: async () => ({ dbSize: store.dbSizeBytes(), dbSizeInUse: store.dbSizeInUse() }),
    hash: async () => (await store.hash()).hash,
    hashKv: (revision) => store.hashKV(revision),
    // RocksDB reclaims space by its own background compaction; nothing to rewrite here. The
    // sizes reported as etcd's (quota, status) shrink as etcd's defrag would shrink its file.
    defragment: async () => {
      await store.compactionsSettled();
      await store.defragmentBackendSize();
    },
    snapshotImage: () => snapshotImage(store),
  };
}

/** Opens the member's store; a backend batch interval or limit of 0 (or absent) means etcd's default. */
export async function openStore(
  directory: string,
  options: { leases: LeaseHooks; maxTxnOps: number; backendBatchIntervalMs?: number; backendBatchLimit?: number },
): Promise<MvccStore> {
  const { backendBatchIntervalMs, backendBatchLimit } = options;
  return MvccStore.open(directory, {
    leases: options.leases,
    maxTxnOps: options.maxTxnOps,
    ...(backendBatchIntervalMs !== undefined && backendBatchIntervalMs > 0 && { backendBatchIntervalMs }),
    ...(backendBatchLimit !== undefined && backendBatchLimit > 0 && { backendBatchLimit }),
  });
}
