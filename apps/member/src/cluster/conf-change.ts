// Applies committed configuration changes: to raft's configuration (through the node) and to
// the member list (through Membership), persisting the member list in the same batch. The
// conf change's context is JSON naming the proposing request (so its waiter is answered) and,
// for additions and updates, the member record.
import { ConfChangeType, type ConfChangeV2, type ConfState } from '@keel/raft';
import { encodeId } from '@keel/mvcc';
import type { ConfChangeHandler } from '../apply/entry-applier';
import type { StoreBatch } from '../apply/store-port';
import type { ApplyOutcome } from '../server/proposer';
import { decodeMember, encodeMember, removedMemberKey, type MemberInfo, type Membership } from './membership';

export interface ConfChangeContext {
  requestId: bigint;
  member?: MemberInfo;
}

export function encodeConfChangeContext(context: ConfChangeContext): Uint8Array {
  const member = context.member ? new TextDecoder().decode(encodeMember(context.member)) : undefined;
  return new TextEncoder().encode(JSON.stringify({ requestId: context.requestId.toString(), member }));
}

export function decodeConfChangeContext(bytes: Uint8Array | undefined): ConfChangeContext {
  if (!bytes || bytes.length === 0) return { requestId: 0n };
  const json = JSON.parse(new TextDecoder().decode(bytes)) as { requestId?: string; member?: string; id?: string };
  // Bootstrap entries carry a bare member record (no request).
  if (json.id !== undefined) return { requestId: 0n, member: decodeMember(bytes) };
  return {
    requestId: BigInt(json.requestId ?? '0'),
    member: json.member ? decodeMember(new TextEncoder().encode(json.member)) : undefined,
  };
}

export interface ConfChangeDeps {
  membership: Membership;
  applyToRaft(change: ConfChangeV2): ConfState;
  /** This member was removed from the cluster. */
  onSelfRemoved?(): void;
  /** After the member list changed (to update the peer transport). */
  onMembershipChanged?(): void;
  selfId: bigint;
}

export function persistMember(batch: StoreBatch, membership: Membership, id: bigint): void {
  const member = membership.get(id);
  if (member) batch.rawPut('members', encodeId(id), encodeMember(member));
  else batch.rawDelete('members', encodeId(id));
  if (membership.isRemoved(id)) batch.rawPut('members', removedMemberKey(id), Buffer.alloc(0));
}

export function createConfChangeHandler(deps: ConfChangeDeps): ConfChangeHandler {
  return {
    apply(change, batch) {
      const context = decodeConfChangeContext(change.context);
      const confState = deps.applyToRaft(change);
      for (const single of change.changes) {
        switch (single.type) {
          case ConfChangeType.AddNode:
          case ConfChangeType.AddLearnerNode: {
            const existing = deps.membership.get(single.nodeId);
            const isLearner = single.type === ConfChangeType.AddLearnerNode;
            if (existing && !isLearner) deps.membership.promote(single.nodeId);
            else if (!existing && context.member) deps.membership.add({ ...context.member, id: single.nodeId, isLearner });
            break;
          }
          case ConfChangeType.RemoveNode:
            deps.membership.remove(single.nodeId);
            if (single.nodeId === deps.selfId) deps.onSelfRemoved?.();
            break;
          case ConfChangeType.UpdateNode:
            if (context.member) deps.membership.updatePeerUrls(single.nodeId, context.member.peerUrls);
            break;
        }
        persistMember(batch, deps.membership, single.nodeId);
      }
      deps.onMembershipChanged?.();
      const outcome: ApplyOutcome = { ok: true, response: deps.membership.list() };
      return { requestId: context.requestId, outcome, confState };
    },
  };
}
