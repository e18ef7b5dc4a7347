// The etcdserverpb.Maintenance service: status, alarms, hashes, defragment, snapshot and
// leader transfer.
import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { etcdserverpb } from '@keel/proto';
import type { ServiceHandlers, StreamCall } from '../rpc/types';
import type { MaintenanceService } from './services';
import type { HeaderFn } from './header';
import { etcdError, toClientError } from './errors';
import type { Proposer } from '../server/proposer';
import type { AlarmSet } from '../apply/alarms';
import type { SnapshotFile } from '../snapshot/snapshot-files';

/** etcd's server version, reported by Status. */
export const SERVER_VERSION = '3.4.23';
/** etcdctl checks a snapshot stream is a multiple of this size plus a SHA-256. */
const SNAPSHOT_PAGE_BYTES = 512;
const SNAPSHOT_CHUNK_BYTES = 32 * 1024;
const SHA256_BYTES = 32;

export interface RaftView {
  memberId(): bigint;
  leaderId(): bigint;
  committedIndex(): number;
  appliedIndex(): number;
  term(): number;
  isLearner(): boolean;
}

export interface BackendView {
  /** Bytes the database uses on disk, and the part of it holding live data. */
  sizes(): Promise<{ dbSize: number; dbSizeInUse: number }>;
  hash(): Promise<number>;
  hashKv(revision: number): Promise<{ hash: number; revision: number; compactRevision: number }>;
  defragment(): Promise<void>;
  /** A consistent image of the whole database in Keel's own format (raft snapshots to peers). */
  snapshotImage(): Promise<{ image: Buffer; revision: number }>;
}

export interface MaintenanceDeps {
  proposer: Pick<Proposer, 'propose'>;
  header: HeaderFn;
  raft: RaftView;
  backend: BackendView;
  alarms: AlarmSet;
  /** Asks raft to hand leadership to target; resolves when it has moved. */
  moveLeader(target: bigint): Promise<void>;
  /**
   * Writes the whole state as an etcd backend (bbolt) file for Snapshot to stream, as etcd
   * streams its database; the handler deletes it afterwards.
   */
  snapshotFile(): Promise<SnapshotFile>;
}

function alarmName(alarm: etcdserverpb.AlarmType): string {
  return alarm === etcdserverpb.AlarmType.NOSPACE ? 'NOSPACE' : alarm === etcdserverpb.AlarmType.CORRUPT ? 'CORRUPT' : 'NONE';
}

export function maintenanceHandlers(deps: MaintenanceDeps): ServiceHandlers<typeof MaintenanceService> {
  const { raft, backend } = deps;
  return {
    status: async () => {
      const { dbSize, dbSizeInUse } = await backend.sizes();
      const errors = deps.alarms.list().map((a) => `memberID:${a.memberId} alarm:${alarmName(a.alarm)} `);
      return {
        header: deps.header(),
        version: SERVER_VERSION,
        dbSize: BigInt(dbSize),
        leader: raft.leaderId(),
        raftIndex: BigInt(raft.committedIndex()),
        raftTerm: BigInt(raft.term()),
        raftAppliedIndex: BigInt(raft.appliedIndex()),
        errors,
        dbSizeInUse: BigInt(dbSizeInUse),
        isLearner: raft.isLearner(),
        storageVersion: '',
        dbSizeQuota: 0n,
      };
    },
    alarm: async (request) => {
      const response = await deps.proposer.propose<etcdserverpb.AlarmResponse>({ $case: 'alarm', value: request });
      // etcd 3.4 answers alarm requests without a header (etcdctl -w json prints `{}`).
      return { header: undefined, alarms: response.alarms };
    },
    defragment: async () => {
      await backend.defragment();
      return { header: deps.header() };
    },
    hash: async () => ({ header: deps.header(), hash: await backend.hash() }),
    hashKv: async (request) => {
      try {
        const result = await backend.hashKv(Number(request.revision));
        return {
          header: deps.header(result.revision),
          hash: result.hash,
          // etcd reports -1 while the history has never been compacted.
          compactRevision: BigInt(result.compactRevision === 0 ? -1 : result.compactRevision),
          hashRevision: BigInt(result.revision),
        };
      } catch (error) {
        throw toClientError(error);
      }
    },
    snapshot: async (call: StreamCall<etcdserverpb.SnapshotRequest, etcdserverpb.SnapshotResponse>) => {
      const file = await deps.snapshotFile();
      try {
        await streamSnapshot(call, deps.header(file.revision), file.bytes + SHA256_BYTES, sealedFileChunks(file));
      } finally {
        await rm(file.path, { force: true });
      }
    },
    moveLeader: async (request) => {
      if (raft.leaderId() !== raft.memberId()) throw etcdError('NotLeader');
      await deps.moveLeader(request.targetID);
      return { header: deps.header() };
    },
  };
}

/**
 * The file, then its SHA-256, read a chunk at a time (a snapshot of any size streams in
 * bounded memory). A bbolt file is whole 4096-byte pages, so it needs no padding to 512.
 */
async function* sealedFileChunks(file: SnapshotFile): AsyncGenerator<Buffer> {
  if (file.bytes % SNAPSHOT_PAGE_BYTES !== 0) throw new Error(`snapshot file is not whole ${SNAPSHOT_PAGE_BYTES}-byte pages`);
  const hash = createHash('sha256');
  const handle = await open(file.path, 'r');
  try {
    for (let position = 0; position < file.bytes; ) {
      const chunk = Buffer.alloc(Math.min(SNAPSHOT_CHUNK_BYTES, file.bytes - position));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
      if (bytesRead !== chunk.length) throw new Error('snapshot file shrank while streaming');
      hash.update(chunk);
      position += bytesRead;
      yield chunk;
    }
  } finally {
    await handle.close();
  }
  yield hash.digest();
}

async function streamSnapshot(
  call: StreamCall<etcdserverpb.SnapshotRequest, etcdserverpb.SnapshotResponse>,
  header: etcdserverpb.ResponseHeader,
  totalBytes: number,
  chunks: AsyncIterable<Buffer>,
): Promise<void> {
  // One drain listener for the whole stream; each wait parks its resolver here.
  let drained: (() => void) | undefined;
  call.onDrain(() => {
    const resume = drained;
    drained = undefined;
    resume?.();
  });
  let sent = 0;
  for await (const blob of chunks) {
    if (call.ended || call.signal.aborted) break;
    sent += blob.length;
    const remainingBytes = BigInt(totalBytes - sent);
    if (!call.write({ header, remainingBytes, blob, version: SERVER_VERSION })) {
      await new Promise<void>((resolve) => {
        if (call.signal.aborted) return resolve();
        // A multi-GiB stream waits thousands of times: each wait removes its abort listener.
        const onAbort = (): void => resolve();
        call.signal.addEventListener('abort', onAbort, { once: true });
        drained = () => {
          call.signal.removeEventListener('abort', onAbort);
          resolve();
        };
      });
    }
  }
  call.end();
}
