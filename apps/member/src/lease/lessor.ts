// Lease bookkeeping. The replicated part (which leases exist, their granted TTL, the keys
// attached) changes only through applied raft entries; expiry times are local and meaningful
// only on the leader, which proposes revokes for leases it sees expire. A follower keeps every
// lease "forever" until it becomes leader and restarts the clocks (promote), so a leader change
// extends leases rather than expiring them early.

/** etcd's upper bound on a lease TTL, in seconds. */
export const LEASE_TTL_MAX_SECONDS = 9_000_000_000;

export interface LeaseRecord {
  readonly id: bigint;
  /** TTL as granted (after raising to the minimum), seconds. */
  ttlSeconds: number;
  /** Remaining TTL from the last checkpoint, seconds; 0 when none. */
  remainingTtlSeconds: number;
  /** Local expiry time in ms (Date.now scale); Infinity when not the leader. */
  expiresAtMs: number;
  /** Attached keys, as hex strings of the key bytes. */
  readonly keys: Set<string>;
}

export interface LessorOptions {
  /** Grants below this TTL are raised to it (etcd: 1.5 election timeouts, rounded up to a second). */
  minTtlSeconds: number;
  now?: () => number;
}

export function keyToHex(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex');
}

export class Lessor {
  private readonly leases = new Map<bigint, LeaseRecord>();
  private primary = false;
  private readonly now: () => number;

  constructor(private readonly options: LessorOptions) {
    this.now = options.now ?? Date.now;
  }

  get minTtlSeconds(): number {
    return this.options.minTtlSeconds;
  }

  get isPrimary(): boolean {
    return this.primary;
  }

  has(id: bigint): boolean {
    return this.leases.has(id);
  }

  get(id: bigint): LeaseRecord | undefined {
    return this.leases.get(id);
  }

  ids(): bigint[] {
    return [...this.leases.keys()];
  }

  /** Applied LeaseGrant. Returns the effective TTL. Caller checked the ID is free and the TTL bound. */
  grant(id: bigint, ttlSeconds: number): LeaseRecord {
    const effective = Math.max(ttlSeconds, this.options.minTtlSeconds);
    const record: LeaseRecord = {
      id,
      ttlSeconds: effective,
      remainingTtlSeconds: 0,
      expiresAtMs: this.primary ? this.now() + effective * 1000 : Infinity,
      keys: new Set(),
    };
    this.leases.set(id, record);
    return record;
  }

  /** Applied LeaseRevoke: forgets the lease and returns its keys (hex) for the caller to delete. */
  revoke(id: bigint): string[] | undefined {
    const record = this.leases.get(id);
    if (!record) return undefined;
    this.leases.delete(id);
    return [...record.keys];
  }

  /** Restores a lease from persisted state at startup (keys are re-attached separately). */
  restore(id: bigint, ttlSeconds: number, remainingTtlSeconds: number): void {
    this.leases.set(id, { id, ttlSeconds, remainingTtlSeconds, expiresAtMs: Infinity, keys: new Set() });
  }

  attach(id: bigint, key: Uint8Array): void {
    this.leases.get(id)?.keys.add(keyToHex(key));
  }

  detach(id: bigint, key: Uint8Array): void {
    this.leases.get(id)?.keys.delete(keyToHex(key));
  }

  /** Applied LeaseCheckpoint. */
  checkpoint(id: bigint, remainingTtlSeconds: number): void {
    const record = this.leases.get(id);
    if (!record) return;
    record.remainingTtlSeconds = remainingTtlSeconds;
    if (this.primary) record.expiresAtMs = this.now() + remainingTtlSeconds * 1000;
  }

  /** Leader only: restarts the lease's clock. Returns the TTL, or undefined if unknown/expired. */
  renew(id: bigint): number | undefined {
    const record = this.leases.get(id);
    if (!record || record.expiresAtMs <= this.now()) return undefined;
    record.expiresAtMs = this.now() + record.ttlSeconds * 1000;
    record.remainingTtlSeconds = 0;
    return record.ttlSeconds;
  }

  /** Remaining seconds (rounded up), as TimeToLive reports it; -1 once expired. */
  remainingSeconds(record: LeaseRecord): number {
    if (record.expiresAtMs === Infinity) return record.remainingTtlSeconds || record.ttlSeconds;
    const ms = record.expiresAtMs - this.now();
    return ms <= 0 ? -1 : Math.ceil(ms / 1000);
  }

  /** TimeToLive's figure: whole seconds left, truncated as etcd's int64(Remaining().Seconds()). */
  timeToLiveSeconds(record: LeaseRecord): number {
    if (record.expiresAtMs === Infinity) return this.remainingSeconds(record);
    const ms = record.expiresAtMs - this.now();
    return ms <= 0 ? -1 : Math.trunc(ms / 1000);
  }

  /** Becoming leader: every lease gets a full TTL (or its checkpointed remainder) from now + extraMs. */
  promote(extraMs: number): void {
    this.primary = true;
    const now = this.now();
    for (const record of this.leases.values()) {
      const seconds = record.remainingTtlSeconds > 0 ? record.remainingTtlSeconds : record.ttlSeconds;
      record.expiresAtMs = now + extraMs + seconds * 1000;
    }
  }

  demote(): void {
    this.primary = false;
    for (const record of this.leases.values()) record.expiresAtMs = Infinity;
  }

  /** Leader only: leases whose clocks ran out, up to `limit`. */
  expired(limit: number): bigint[] {
    if (!this.primary) return [];
    const now = this.now();
    const out: bigint[] = [];
    for (const record of this.leases.values()) {
      if (record.expiresAtMs <= now) out.push(record.id);
      if (out.length >= limit) break;
    }
    return out;
  }
}
