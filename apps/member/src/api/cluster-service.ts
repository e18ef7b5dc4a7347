// The etcdserverpb.Cluster service: membership changes are raft configuration changes whose
// context carries the member record; the answer is the member list after the change applied.
import { ConfChangeTransition, ConfChangeType, ProgressState, type ConfChangeV2, type Status } from '@keel/raft';
import type { etcdserverpb } from '@keel/proto';
import type { ServiceHandlers } from '../rpc/types';
import type { ClusterService } from './services';
import type { HeaderFn } from './header';
import { etcdError } from './errors';
import type { MemberInfo, Membership } from '../cluster/membership';
import { encodeConfChangeContext } from '../cluster/conf-change';
import type { WaitRegistry } from '../server/wait';
import type { ApplyOutcome } from '../server/proposer';

/** A learner may be promoted once its log matches at least this share of the leader's. */
const LEARNER_READY_SHARE = 0.9;
const LEARNERS_MAX = 1;

export interface ClusterServiceDeps {
  membership: Membership;
  header: HeaderFn;
  proposeConfChange(change: ConfChangeV2): void;
  nextRequestId(): bigint;
  waits: WaitRegistry<ApplyOutcome>;
  raftStatus(): Status;
  /** Member ID etcd derives for a member added now. */
  newMemberId(peerUrls: string[]): bigint;
  timeoutMs: number;
}

export function memberToPb(member: MemberInfo): etcdserverpb.Member {
  return {
    ID: member.id,
    name: member.name,
    peerURLs: [...member.peerUrls],
    clientURLs: [...member.clientUrls],
    isLearner: member.isLearner,
  };
}

function validUrls(urls: string[]): boolean {
  if (urls.length === 0) return false;
  return urls.every((raw) => {
    try {
      const url = new URL(raw);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.port !== '' && url.pathname === '/';
    } catch {
      return false;
    }
  });
}

export function clusterHandlers(deps: ClusterServiceDeps): ServiceHandlers<typeof ClusterService> {
  const { membership } = deps;
  // etcd's Cluster service answers with a header that carries no revision.
  const clusterHeader = () => deps.header(0);

  async function change(type: ConfChangeType, nodeId: bigint, member?: MemberInfo): Promise<MemberInfo[]> {
    const requestId = deps.nextRequestId();
    const waiter = deps.waits.register(requestId);
    const timer = setTimeout(() => deps.waits.fail(requestId, etcdError('Timeout')), deps.timeoutMs);
    try {
      deps.proposeConfChange({
        transition: ConfChangeTransition.Auto,
        changes: [{ type, nodeId }],
        context: encodeConfChangeContext({ requestId, member }),
      });
    } catch {
      deps.waits.fail(requestId, etcdError('NoLeader'));
    }
    try {
      const outcome = await waiter;
      if (!outcome.ok) throw outcome.error;
      return outcome.response as MemberInfo[];
    } finally {
      clearTimeout(timer);
    }
  }

  function peerUrlTaken(urls: string[], except?: bigint): boolean {
    return membership.list().some((m) => m.id !== except && m.peerUrls.some((u) => urls.includes(u)));
  }

  function learnerReady(id: bigint): void {
    const status = deps.raftStatus();
    if (!status.progress) throw etcdError('NotLeader');
    const learner = status.progress.get(id);
    const leader = status.progress.get(status.id);
    if (!learner || !leader) return;
    if (learner.state === ProgressState.Snapshot || learner.match < leader.match * LEARNER_READY_SHARE) {
      throw etcdError('LearnerNotReady');
    }
  }

  return {
    memberAdd: async (request) => {
      if (!validUrls(request.peerURLs)) throw etcdError('MemberBadURLs');
      if (peerUrlTaken(request.peerURLs)) throw etcdError('PeerURLExist');
      if (request.isLearner && membership.list().filter((m) => m.isLearner).length >= LEARNERS_MAX) {
        throw etcdError('TooManyLearners');
      }
      const id = deps.newMemberId(request.peerURLs);
      if (membership.get(id) || membership.isRemoved(id)) throw etcdError('MemberExist');
      const member: MemberInfo = { id, name: '', peerUrls: [...request.peerURLs].sort(), clientUrls: [], isLearner: request.isLearner };
      const type = request.isLearner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode;
      const members = await change(type, id, member);
      return { header: clusterHeader(), member: memberToPb(member), members: members.map(memberToPb) };
    },
    memberRemove: async (request) => {
      if (!membership.get(request.ID)) throw etcdError('MemberNotFound');
      const members = await change(ConfChangeType.RemoveNode, request.ID);
      return { header: clusterHeader(), members: members.map(memberToPb) };
    },
    memberUpdate: async (request) => {
      const existing = membership.get(request.ID);
      if (!existing) throw etcdError('MemberNotFound');
      if (!validUrls(request.peerURLs)) throw etcdError('MemberBadURLs');
      if (peerUrlTaken(request.peerURLs, request.ID)) throw etcdError('PeerURLExist');
      const member = { ...existing, peerUrls: [...request.peerURLs].sort() };
      const members = await change(ConfChangeType.UpdateNode, request.ID, member);
      return { header: clusterHeader(), members: members.map(memberToPb) };
    },
    memberList: () => ({ header: clusterHeader(), members: membership.list().map(memberToPb) }),
    memberPromote: async (request) => {
      const existing = membership.get(request.ID);
      if (!existing) throw etcdError('MemberNotFound');
      if (!existing.isLearner) throw etcdError('MemberNotLearner');
      learnerReady(request.ID);
      const members = await change(ConfChangeType.AddNode, request.ID, { ...existing, isLearner: false });
      return { header: clusterHeader(), members: members.map(memberToPb) };
    },
  };
}
