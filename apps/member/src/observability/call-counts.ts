/**
 * Per-call gRPC counts kept as plain numbers on the request path and added to their
 * prom-client counters only when the registry is read (a /metrics scrape, or a metric's
 * get()). Measured: four prom-client `inc` calls per request cost ~2 µs of CPU per put at
 * 1000 clients; a plain increment costs next to nothing. The published series, names and
 * values are the same as counting each call directly, as of the moment of the read.
 *
 * Bounded: one entry per (method path, status code) seen, and paths are only those of
 * registered methods (unknown paths are not reported by the gRPC server).
 */
import type { Counter } from 'prom-client';
import type { CallOutcome } from '../rpc/types';

/** The counters the counts are published to. */
export interface CallCounters {
  readonly grpcStarted: Counter<'grpc_type' | 'grpc_service' | 'grpc_method'>;
  readonly grpcHandled: Counter<'grpc_type' | 'grpc_service' | 'grpc_method' | 'grpc_code'>;
  readonly clientGrpcSentBytes: Counter;
  readonly clientGrpcReceivedBytes: Counter;
}

interface Labelled {
  inc(value: number): void;
}

/** Calls of one method that ended with one status code, not yet published. */
interface PathCodeCount {
  unpublished: number;
  started: Labelled;
  handled: Labelled;
}

export class GrpcCallCounts {
  /** path -> status code -> count. Two lookups instead of a per-call key string. */
  private readonly byPath = new Map<string, (PathCodeCount | undefined)[]>();
  private unpublishedReceivedBytes = 0;
  private unpublishedSentBytes = 0;

  /**
   * @param counters where publish() adds the counts
   * @param codeName the `grpc_code` label value for a status code
   */
  constructor(
    private readonly counters: CallCounters,
    private readonly codeName: (code: number) => string,
  ) {}

  /** Counts one finished call (hot path: no allocation once its method and code were seen). */
  record(outcome: CallOutcome): void {
    let byCode = this.byPath.get(outcome.path);
    if (byCode === undefined) {
      byCode = [];
      this.byPath.set(outcome.path, byCode);
    }
    const count = byCode[outcome.code] ?? (byCode[outcome.code] = this.newCount(outcome));
    count.unpublished++;
    this.unpublishedReceivedBytes += outcome.receivedBytes;
    this.unpublishedSentBytes += outcome.sentBytes;
  }

  /** Adds everything counted since the last publish to the prom-client counters. */
  publish(): void {
    for (const byCode of this.byPath.values()) {
      for (const count of byCode) {
        if (count === undefined || count.unpublished === 0) continue;
        count.started.inc(count.unpublished);
        count.handled.inc(count.unpublished);
        count.unpublished = 0;
      }
    }
    if (this.unpublishedReceivedBytes > 0) this.counters.clientGrpcReceivedBytes.inc(this.unpublishedReceivedBytes);
    if (this.unpublishedSentBytes > 0) this.counters.clientGrpcSentBytes.inc(this.unpublishedSentBytes);
    this.unpublishedReceivedBytes = 0;
    this.unpublishedSentBytes = 0;
  }

  private newCount(outcome: CallOutcome): PathCodeCount {
    const labels = { grpc_type: outcome.kind, grpc_service: outcome.service, grpc_method: outcome.method };
    return {
      unpublished: 0,
      // Bound to their label sets once, so publishing does not hash label objects again.
      started: this.counters.grpcStarted.labels(labels),
      handled: this.counters.grpcHandled.labels({ ...labels, grpc_code: this.codeName(outcome.code) }),
    };
  }
}
