/**
 * Test double of ConcurrencyBackend: an in-memory, single-version-per-key store that keeps a
 * revision counter, create/mod revisions, leases (revoking one deletes its keys) and an event
 * history that watches replay from their start revision. Only what the concurrency services
 * use is modelled; anything else throws so a test cannot silently rely on it.
 */
import { etcdserverpb, mvccpb } from '@keel/proto';
import { GrpcError, GrpcStatus } from '../../rpc/status';
import type { ConcurrencyBackend } from '../backend';

interface Stored {
  kv: mvccpb.KeyValue;
}

type Listener = () => void;

export class FakeBackend implements ConcurrencyBackend {
  revision = 1n;
  private readonly keys = new Map<string, Stored>();
  private readonly leases = new Map<bigint, Set<string>>();
  private readonly history: Array<{ revision: bigint; event: mvccpb.Event }> = [];
  private readonly listeners = new Set<Listener>();
  private nextLease = 0x100n;
  /** Number of watches currently open (tests check nothing leaks). */
  openWatches = 0;
  rangeCalls = 0;

  header(revision = this.revision): etcdserverpb.ResponseHeader {
    return { clusterId: 1n, memberId: 2n, revision, raftTerm: 3n };
  }

  grant(id?: bigint): bigint {
    const lease = id ?? this.nextLease++;
    this.leases.set(lease, new Set());
    return lease;
  }

  /** Revokes a lease: its keys are deleted in one revision, as etcd does. */
  revoke(lease: bigint): void {
    const keys = this.leases.get(lease);
    if (keys === undefined) throw new Error(`no lease ${lease}`);
    this.leases.delete(lease);
    if (keys.size === 0) return;
    this.revision++;
    for (const key of keys) this.remove(key);
    this.notify();
  }

  put(key: string, value: string, lease = 0n): void {
    this.revision++;
    this.store(Buffer.from(key), Buffer.from(value), lease);
    this.notify();
  }

  get(key: string): mvccpb.KeyValue | undefined {
    return this.keys.get(key)?.kv;
  }

  async range(request: etcdserverpb.RangeRequest): Promise<etcdserverpb.RangeResponse> {
    this.rangeCalls++;
    return this.rangeNow(request);
  }

  async txn(request: etcdserverpb.TxnRequest): Promise<etcdserverpb.TxnResponse> {
    const succeeded = request.compare.every((compare) => this.compare(compare));
    const ops = succeeded ? request.success : request.failure;
    // Validate leases first: etcd refuses the whole txn if a put names an unknown lease.
    for (const op of ops) {
      if (op.request?.$case === 'requestPut') this.checkLease(op.request.value.lease);
    }
    const writes = ops.some((op) => op.request?.$case !== 'requestRange');
    if (writes) this.revision++;
    const responses: etcdserverpb.ResponseOp[] = ops.map((op) => this.applyOp(op));
    if (writes) this.notify();
    return { header: this.header(), succeeded, responses };
  }

  async deleteRange(request: etcdserverpb.DeleteRangeRequest): Promise<etcdserverpb.DeleteRangeResponse> {
    const matches = this.matching(request.key, request.rangeEnd);
    if (matches.length > 0) {
      this.revision++;
      for (const stored of matches) this.remove(stored.kv.key.toString('latin1'));
      this.notify();
    }
    return { header: this.header(), deleted: BigInt(matches.length), prevKvs: [] };
  }

  async leaseGrant(request: etcdserverpb.LeaseGrantRequest): Promise<etcdserverpb.LeaseGrantResponse> {
    const ID = this.grant(request.ID === 0n ? undefined : request.ID);
    return { header: this.header(), ID, TTL: request.TTL, error: '' };
  }

  async *watch(request: etcdserverpb.WatchCreateRequest, signal: AbortSignal): AsyncIterable<etcdserverpb.WatchResponse> {
    let next = request.startRevision === 0n ? this.revision + 1n : request.startRevision;
    const dropPuts = request.filters.includes(etcdserverpb.WatchCreateRequest_FilterType.NOPUT);
    const dropDeletes = request.filters.includes(etcdserverpb.WatchCreateRequest_FilterType.NODELETE);
    this.openWatches++;
    try {
      while (!signal.aborted) {
        const events = this.history
          .filter((h) => h.revision >= next && inRange(h.event.kv!.key, request.key, request.rangeEnd))
          .map((h) => h.event)
          .filter((e) => !(dropPuts && e.type === mvccpb.Event_EventType.PUT))
          .filter((e) => !(dropDeletes && e.type === mvccpb.Event_EventType.DELETE));
        next = this.revision + 1n;
        if (events.length > 0) {
          yield { header: this.header(), watchId: 0n, created: false, canceled: false, compactRevision: 0n, cancelReason: '', fragment: false, events };
          continue;
        }
        await this.changed(signal);
      }
    } finally {
      this.openWatches--;
    }
  }

  private changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.listeners.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.listeners.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private rangeNow(request: etcdserverpb.RangeRequest): etcdserverpb.RangeResponse {
    if (request.revision !== 0n) throw new Error('fake backend: historical ranges are not modelled');
    let kvs = this.matching(request.key, request.rangeEnd).map((s) => s.kv);
    if (request.maxCreateRevision > 0n) kvs = kvs.filter((kv) => kv.createRevision <= request.maxCreateRevision);
    if (request.sortTarget === etcdserverpb.RangeRequest_SortTarget.CREATE) {
      kvs.sort((a, b) => Number(a.createRevision - b.createRevision));
    } else if (request.sortTarget !== etcdserverpb.RangeRequest_SortTarget.KEY) {
      throw new Error('fake backend: sort target not modelled');
    }
    if (request.sortOrder === etcdserverpb.RangeRequest_SortOrder.DESCEND) kvs.reverse();
    const count = kvs.length;
    if (request.limit > 0n) kvs = kvs.slice(0, Number(request.limit));
    return { header: this.header(), kvs, more: kvs.length < count, count: BigInt(count) };
  }

  private compare(compare: etcdserverpb.Compare): boolean {
    const kv = this.keys.get(compare.key.toString('latin1'))?.kv;
    if (compare.target !== etcdserverpb.Compare_CompareTarget.CREATE || compare.targetUnion?.$case !== 'createRevision') {
      throw new Error('fake backend: only create-revision compares are modelled');
    }
    if (compare.result !== etcdserverpb.Compare_CompareResult.EQUAL) throw new Error('fake backend: only = is modelled');
    return (kv?.createRevision ?? 0n) === compare.targetUnion.value;
  }

  private applyOp(op: etcdserverpb.RequestOp): etcdserverpb.ResponseOp {
    const request = op.request;
    switch (request?.$case) {
      case 'requestRange':
        return { response: { $case: 'responseRange', value: this.rangeNow(request.value) } };
      case 'requestPut':
        this.store(request.value.key, request.value.value, request.value.lease);
        return { response: { $case: 'responsePut', value: { header: this.header() } } };
      case 'requestDeleteRange': {
        const matches = this.matching(request.value.key, request.value.rangeEnd);
        for (const stored of matches) this.remove(stored.kv.key.toString('latin1'));
        const value = { header: this.header(), deleted: BigInt(matches.length), prevKvs: [] };
        return { response: { $case: 'responseDeleteRange', value } };
      }
      default:
        throw new Error('fake backend: op not modelled');
    }
  }

  private checkLease(lease: bigint): void {
    if (lease !== 0n && !this.leases.has(lease)) {
      throw new GrpcError(GrpcStatus.NOT_FOUND, 'etcdserver: requested lease not found');
    }
  }

  private store(key: Buffer, value: Buffer, lease: bigint): void {
    this.checkLease(lease);
    const name = key.toString('latin1');
    const previous = this.keys.get(name)?.kv;
    if (previous && previous.lease !== 0n) this.leases.get(previous.lease)?.delete(name);
    const kv: mvccpb.KeyValue = {
      key,
      value,
      lease,
      createRevision: previous?.createRevision ?? this.revision,
      modRevision: this.revision,
      version: (previous?.version ?? 0n) + 1n,
    };
    this.keys.set(name, { kv });
    if (lease !== 0n) this.leases.get(lease)!.add(name);
    this.history.push({ revision: this.revision, event: { type: mvccpb.Event_EventType.PUT, kv } });
  }

  private remove(name: string): void {
    const stored = this.keys.get(name);
    if (stored === undefined) return;
    this.keys.delete(name);
    if (stored.kv.lease !== 0n) this.leases.get(stored.kv.lease)?.delete(name);
    const tombstone: mvccpb.KeyValue = { key: stored.kv.key, value: Buffer.alloc(0), lease: 0n, createRevision: 0n, modRevision: this.revision, version: 0n };
    this.history.push({ revision: this.revision, event: { type: mvccpb.Event_EventType.DELETE, kv: tombstone } });
  }

  private matching(key: Buffer, rangeEnd: Buffer): Stored[] {
    return [...this.keys.values()]
      .filter((s) => inRange(s.kv.key, key, rangeEnd))
      .sort((a, b) => Buffer.compare(a.kv.key, b.kv.key));
  }
}

function inRange(candidate: Buffer, key: Buffer, rangeEnd: Buffer): boolean {
  if (rangeEnd.length === 0) return candidate.equals(key);
  if (Buffer.compare(candidate, key) < 0) return false;
  return (rangeEnd.length === 1 && rangeEnd[0] === 0) || Buffer.compare(candidate, rangeEnd) < 0;
}
