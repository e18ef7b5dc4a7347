// The etcdserverpb.Maintenance service: status, alarms, hashes, defragment, snapshot and
// leader transfer.
import { createHash } from 'node:crypto';
import { etcdserverpb } from '@keel/proto';
import type { ServiceHandlers, StreamCall } from '../rpc/types';
import type { MaintenanceService } from './services';
import type { HeaderFn } from './header';
import { etcdError, toClientError } from './errors';
import type { Proposer } from '../server/proposer';
import type { AlarmSet } from '../apply/alarms';

/** etcd's server version, reported by Status. */
export const SERVER_VERSION = '3.4.23';
/** etcdctl checks a snapshot stream is a multiple of this size plus a SHA-256. */
const SNAPSHOT_PAGE_BYTES = 512;
const SNAPSHOT_CHUNK_BYTES = 32 * 1024;

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
  /** A consistent image of the whole database (Keel's snapshot format), with its revision. */
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
}

/** Pads to whole 512-byte pages and appends the SHA-256 of what precedes it. */
export function sealSnapshot(image: Buffer): Buffer {
  const paddedLength = Math.ceil(image.length / SNAPSHOT_PAGE_BYTES) * SNAPSHOT_PAGE_BYTES;
  const body = Buffer.alloc(Math.max(paddedLength, SNAPSHOT_PAGE_BYTES));
  image.copy(body);
  const digest = createHash('sha256').update(body).digest();
  return Buffer.concat([body, digest]);
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
      const { image, revision } = await backend.snapshotImage();
      const sealed = sealSnapshot(image);
      const header = deps.header(revision);
      // One drain listener for the whole stream; each wait parks its resolver here.
      let drained: (() => void) | undefined;
      call.onDrain(() => {
        const resume = drained;
        drained = undefined;
        resume?.();
      });
      for (let offset = 0; offset < sealed.length && !call.ended; offset += SNAPSHOT_CHUNK_BYTES) {
        const blob = sealed.subarray(offset, offset + SNAPSHOT_CHUNK_BYTES);
        const remainingBytes = BigInt(sealed.length - offset - blob.length);
        if (!call.write({ header, remainingBytes, blob, version: SERVER_VERSION })) {
          await new Promise<void>((resolve) => {
            drained = resolve;
            call.signal.addEventListener('abort', () => resolve(), { once: true });
          });
        }
      }
      call.end();
    },
    moveLeader: async (request) => {
      if (raft.leaderId() !== raft.memberId()) throw etcdError('NotLeader');
      await deps.moveLeader(request.targetID);
      return { header: deps.header() };
    },
  };
}
