// The cluster's member list as the state machine sees it. Changed only by applied conf-change
// entries (add/remove/update/promote) and member-attribute updates, so every member holds the
// same list at the same applied index. Removed IDs are remembered so a removed member can never
// rejoin under the same ID.

export interface MemberInfo {
  id: bigint;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

/** The JSON carried in a conf change's context (bigint as decimal string). */
interface MemberJson {
  id: string;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

export function encodeMember(member: MemberInfo): Uint8Array {
  const json: MemberJson = { ...member, id: member.id.toString() };
  return new TextEncoder().encode(JSON.stringify(json));
}

export function decodeMember(bytes: Uint8Array): MemberInfo {
  const json = JSON.parse(new TextDecoder().decode(bytes)) as MemberJson;
  return {
    id: BigInt(json.id),
    name: json.name ?? '',
    peerUrls: json.peerUrls ?? [],
    clientUrls: json.clientUrls ?? [],
    isLearner: json.isLearner ?? false,
  };
}

export interface MembershipSnapshot {
  members: MemberJson[];
  removed: string[];
}

/**
 * Key of the cluster version record in the members key space. Member records are keyed
 * by their 8-byte ID, so a longer key cannot collide with one.
 */
export const clusterVersionKey = Buffer.from('cluster_version');

/**
 * Key of a removed member's marker in the members key space: a fixed prefix and the 8-byte ID.
 * Removed IDs must outlive restarts (as etcd's members_removed bucket does): a peer that forgot
 * a removal would accept the removed member again instead of refusing it.
 */
const removedMemberPrefix = Buffer.from('removed/');

export function removedMemberKey(id: bigint): Buffer {
  const key = Buffer.alloc(removedMemberPrefix.length + 8);
  removedMemberPrefix.copy(key);
  key.writeBigUInt64BE(id, removedMemberPrefix.length);
  return key;
}

/** The member ID of a removed-member marker key, or undefined for any other key. */
export function removedMemberIdOf(key: Buffer): bigint | undefined {
  if (key.length !== removedMemberPrefix.length + 8) return undefined;
  if (!key.subarray(0, removedMemberPrefix.length).equals(removedMemberPrefix)) return undefined;
  return key.readBigUInt64BE(removedMemberPrefix.length);
}

/** The cluster version a new leader proposes when none is set (the etcd API Keel serves). */
export const servedClusterVersion = '3.4.0';

export class Membership {
  private readonly members = new Map<bigint, MemberInfo>();
  private readonly removedIds = new Set<bigint>();
  /** Set through raft (etcd's ClusterVersionSet), once a leader has decided it. */
  clusterVersion: string | undefined = undefined;

  constructor(readonly clusterId: bigint) {}

  list(): MemberInfo[] {
    return [...this.members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get(id: bigint): MemberInfo | undefined {
    return this.members.get(id);
  }

  isRemoved(id: bigint): boolean {
    return this.removedIds.has(id);
  }

  add(member: MemberInfo): void {
    this.members.set(member.id, { ...member });
  }

  remove(id: bigint): void {
    this.members.delete(id);
    this.removedIds.add(id);
  }

  /** Restores a removal recorded on disk (no member record remains for it). */
  markRemoved(id: bigint): void {
    this.members.delete(id);
    this.removedIds.add(id);
  }

  updatePeerUrls(id: bigint, peerUrls: string[]): void {
    const member = this.members.get(id);
    if (member) member.peerUrls = [...peerUrls];
  }

  updateAttributes(id: bigint, name: string, clientUrls: string[]): void {
    const member = this.members.get(id);
    if (!member) return;
    member.name = name;
    member.clientUrls = [...clientUrls];
  }

  promote(id: bigint): void {
    const member = this.members.get(id);
    if (member) member.isLearner = false;
  }

  voters(): MemberInfo[] {
    return this.list().filter((m) => !m.isLearner);
  }

  snapshot(): MembershipSnapshot {
    return {
      members: this.list().map((m) => ({ ...m, id: m.id.toString() })),
      removed: [...this.removedIds].map((id) => id.toString()),
    };
  }

  restore(snapshot: MembershipSnapshot): void {
    this.members.clear();
    this.removedIds.clear();
    for (const m of snapshot.members) this.add({ ...m, id: BigInt(m.id) });
    for (const id of snapshot.removed) this.removedIds.add(BigInt(id));
  }
}

/** Rebuilds the member list from the members key space (member records, removal markers, cluster version). */
export function loadMembership(clusterId: bigint, records: Iterable<{ key: Buffer; value: Buffer }>): Membership {
  const membership = new Membership(clusterId);
  for (const { key, value } of records) {
    const removedId = removedMemberIdOf(key);
    if (key.equals(clusterVersionKey)) membership.clusterVersion = value.toString();
    else if (removedId !== undefined) membership.markRemoved(removedId);
    else membership.add(decodeMember(value));
  }
  return membership;
}
