// One client's watch stream (a gRPC Watch call): its watch IDs, its outbox, and the
// three client requests — create, cancel, progress. The member's gRPC handler turns
// WatchRequest messages into these calls, forwards the sink's 'drain' to drain(), and
// calls close() when the call ends. After close() every request is ignored.

import { parseWatchRange } from './key-range';
import { Outbox, type OutboxLimits, type WatchSink } from './outbox';
import { NO_WATCH_ID, controlResponse } from './response';
import { Watcher, type WatcherOptions, type WatcherOwner } from './watcher';

/** Values match etcdserverpb.WatchCreateRequest.FilterType. */
export enum WatchFilter {
  NOPUT = 0,
  NODELETE = 1,
}

export interface CreateWatchRequest {
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  /** 0 or absent: from the next revision. */
  startRevision?: number;
  /** 0n or absent: the stream picks an unused ID. */
  watchId?: bigint;
  prevKv?: boolean;
  progressNotify?: boolean;
  fragment?: boolean;
  filters?: readonly WatchFilter[];
}

/** etcd's texts for create requests it refuses (sent as cancel_reason). */
export const WATCH_RANGE_EMPTY = 'mvcc: watcher range is empty';
export const WATCH_ID_DUPLICATE = 'mvcc: duplicate watch ID provided on the WatchStream';

/** A client keeps sending requests while not reading the answers. */
export class WatchStreamBackloggedError extends Error {
  constructor() {
    super('keel: watch stream has too many unread control responses');
    this.name = 'WatchStreamBackloggedError';
  }
}

/** What a stream needs from the hub. */
export interface StreamHost {
  readonly revision: number;
  attach(watcher: Watcher, startRevision: number): void;
  detach(watcher: Watcher): void;
  requestProgress(owner: WatcherOwner): void;
  released(watcher: Watcher): void;
  streamClosed(stream: WatchStream): void;
  sinkFailed(error: unknown): void;
}

export interface WatchStreamLimits extends OutboxLimits {
  /** Unsent control responses after which client requests are refused. */
  controlResponsesMax: number;
}

export class WatchStream implements WatcherOwner {
  readonly outbox: Outbox;
  notSynced = 0;
  progressRequested = false;
  private readonly watchers = new Map<bigint, Watcher>();
  private nextAutoId = 0n;
  private closed = false;

  constructor(
    private readonly host: StreamHost,
    sink: WatchSink,
    private readonly limits: WatchStreamLimits,
  ) {
    this.outbox = new Outbox(
      sink,
      limits,
      (watcher) => host.released(watcher),
      (error) => {
        host.sinkFailed(error);
        // Not from inside the outbox's own loop: close on the next microtask.
        queueMicrotask(() => this.close());
      },
    );
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Creates a watcher and queues its "created" response (or a created+canceled one with
   * watch ID -1 and etcd's reason when the request is invalid). Returns the ID, or -1n.
   */
  watch(request: CreateWatchRequest): bigint {
    if (this.closed) return NO_WATCH_ID;
    this.checkAcceptingRequests();
    const revision = this.host.revision;
    const parsed = parseWatchRange(request.key, request.rangeEnd);
    if (!parsed.ok) return this.refuse(WATCH_RANGE_EMPTY, revision);
    const id = this.pickId(request.watchId ?? 0n);
    if (id === null) return this.refuse(WATCH_ID_DUPLICATE, revision);

    const watcher = new Watcher(id, this, parsed.keys, parsed.range, optionsOf(request));
    this.watchers.set(id, watcher);
    this.outbox.pushControl(controlResponse({ watchId: id, revision, created: true }));
    this.host.attach(watcher, Math.max(0, request.startRevision ?? 0));
    return id;
  }

  /** Cancels a watcher of this stream; false (and nothing sent) if there is no such ID. */
  cancel(watchId: bigint): boolean {
    if (this.closed) return false;
    this.checkAcceptingRequests();
    const watcher = this.watchers.get(watchId);
    if (watcher === undefined) return false;
    this.watchers.delete(watchId);
    this.host.detach(watcher);
    this.outbox.pushControl(controlResponse({ watchId, revision: this.host.revision, canceled: true }));
    return true;
  }

  /**
   * Asks for a stream-wide progress response (watch ID -1, header revision R meaning
   * "every watcher of this stream has been sent all its events up to R"). It is sent
   * at once if every watcher is synced, otherwise as soon as they all are.
   */
  requestProgress(): void {
    if (this.closed) return;
    this.checkAcceptingRequests();
    this.host.requestProgress(this);
  }

  /** The sink drained: send what is waiting. */
  drain(): void {
    this.outbox.drain();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const watcher of this.watchers.values()) this.host.detach(watcher);
    this.watchers.clear();
    this.outbox.close();
    this.host.streamClosed(this);
  }

  forget(watcher: Watcher): void {
    if (this.watchers.get(watcher.id) === watcher) this.watchers.delete(watcher.id);
  }

  /** Throws WatchStreamBackloggedError: the caller should end the call (or stop reading requests until drain). */
  private checkAcceptingRequests(): void {
    if (this.outbox.controlQueued >= this.limits.controlResponsesMax) throw new WatchStreamBackloggedError();
  }

  private refuse(reason: string, revision: number): bigint {
    this.outbox.pushControl(
      controlResponse({ watchId: NO_WATCH_ID, revision, created: true, canceled: true, cancelReason: reason }),
    );
    return NO_WATCH_ID;
  }

  /** etcd: 0 asks for the lowest unused ID counting up from the last one given. */
  private pickId(requested: bigint): bigint | null {
    if (requested !== 0n) return this.watchers.has(requested) ? null : requested;
    while (this.watchers.has(this.nextAutoId)) this.nextAutoId++;
    return this.nextAutoId++;
  }
}

function optionsOf(request: CreateWatchRequest): WatcherOptions {
  const filters = request.filters ?? [];
  return {
    prevKv: request.prevKv === true,
    fragment: request.fragment === true,
    progressNotify: request.progressNotify === true,
    noPut: filters.includes(WatchFilter.NOPUT),
    noDelete: filters.includes(WatchFilter.NODELETE),
  };
}
