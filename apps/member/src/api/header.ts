// Every response carries {cluster_id, member_id, revision, raft_term}. The revision comes from
// the operation (the store revision it saw or produced); the rest describe this member now.
import type { etcdserverpb } from '@keel/proto';

export interface HeaderSource {
  clusterId(): bigint;
  memberId(): bigint;
  raftTerm(): number;
  currentRevision(): number;
}

export type HeaderFn = (revision?: number) => etcdserverpb.ResponseHeader;

export function headerFactory(source: HeaderSource): HeaderFn {
  return (revision) => ({
    clusterId: source.clusterId(),
    memberId: source.memberId(),
    revision: BigInt(revision ?? source.currentRevision()),
    raftTerm: BigInt(source.raftTerm()),
  });
}

/** Fills member-level header fields into a response produced by apply (which set revision). */
export function stampHeader<T extends { header?: etcdserverpb.ResponseHeader | undefined }>(
  response: T,
  header: HeaderFn,
): T {
  const revision = response.header ? Number(response.header.revision) : undefined;
  response.header = header(revision);
  return response;
}
