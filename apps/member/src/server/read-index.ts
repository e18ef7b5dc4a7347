// Batched linearizable reads (raft thesis §6.4). Reads that arrive while a ReadIndex round is in
// flight join the next round, so each round is one raft ReadIndex no matter how many readers
// wait; a round completes once the state machine has applied up to the index raft returned.
import type { ReadState } from '@keel/raft';

export interface ReadIndexDeps {
  /** Asks raft for a read index tagged with ctx (RawNode.readIndex + kick the loop). */
  requestReadIndex(ctx: Uint8Array): void;
  appliedIndex(): number;
  nextRequestId(): bigint;
  /** Resend a round that got no answer after this long (lost message, leader change). */
  retryIntervalMs: number;
  /** Give up and fail the round's readers after this long. */
  timeoutMs: number;
  /** Error readers get on timeout (etcd's "request timed out"). */
  timeoutError(): Error;
  /** Bound on readers waiting at once. */
  readersMax: number;
  tooManyError(): Error;
}

interface Reader {
  resolve(): void;
  reject(error: Error): void;
}

interface Round {
  ctx: Uint8Array;
  readers: Reader[];
  startedAt: number;
  retryTimer: NodeJS.Timeout;
  /** Set once raft answered; the round completes when applied reaches it. */
  index?: number;
}

function ctxFor(id: bigint): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, id);
  return bytes;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class LinearizableReads {
  private queued: Reader[] = [];
  private inFlight: Round | undefined;
  /** Rounds that got their index but wait for apply, in index order. */
  private awaitingApply: Round[] = [];
  private readersWaiting = 0;

  constructor(private readonly deps: ReadIndexDeps) {}

  /** Resolves once a read served from local state is linearizable. */
  waitReadable(): Promise<void> {
    if (this.readersWaiting >= this.deps.readersMax) return Promise.reject(this.deps.tooManyError());
    this.readersWaiting++;
    return new Promise<void>((resolve, reject) => {
      this.queued.push({
        resolve: () => {
          this.readersWaiting--;
          resolve();
        },
        reject: (e) => {
          this.readersWaiting--;
          reject(e);
        },
      });
      if (!this.inFlight) this.startRound();
    });
  }

  onReadStates(states: ReadState[]): void {
    const round = this.inFlight;
    if (!round) return;
    for (const state of states) {
      if (!sameBytes(state.requestCtx, round.ctx)) continue;
      clearTimeout(round.retryTimer);
      round.index = state.index;
      this.inFlight = undefined;
      this.awaitingApply.push(round);
      this.onApplied(this.deps.appliedIndex());
      if (this.queued.length > 0) this.startRound();
      return;
    }
  }

  onApplied(applied: number): void {
    while (this.awaitingApply.length > 0 && this.awaitingApply[0]!.index! <= applied) {
      const round = this.awaitingApply.shift()!;
      for (const reader of round.readers) reader.resolve();
    }
  }

  /** Fails everything (shutdown). */
  close(error: Error): void {
    const rounds = [...this.awaitingApply, ...(this.inFlight ? [this.inFlight] : [])];
    this.awaitingApply = [];
    this.inFlight = undefined;
    for (const round of rounds) {
      clearTimeout(round.retryTimer);
      for (const reader of round.readers) reader.reject(error);
    }
    for (const reader of this.queued.splice(0)) reader.reject(error);
  }

  private startRound(): void {
    const readers = this.queued.splice(0);
    const round: Round = {
      ctx: ctxFor(this.deps.nextRequestId()),
      readers,
      startedAt: Date.now(),
      retryTimer: setTimeout(() => this.retry(round), this.deps.retryIntervalMs),
    };
    this.inFlight = round;
    this.deps.requestReadIndex(round.ctx);
  }

  private retry(round: Round): void {
    if (this.inFlight !== round) return;
    if (Date.now() - round.startedAt >= this.deps.timeoutMs) {
      this.inFlight = undefined;
      for (const reader of round.readers) reader.reject(this.deps.timeoutError());
      if (this.queued.length > 0) this.startRound();
      return;
    }
    // A fresh ctx so a late answer to the old request cannot be mistaken for this one.
    round.ctx = ctxFor(this.deps.nextRequestId());
    round.retryTimer = setTimeout(() => this.retry(round), this.deps.retryIntervalMs);
    this.deps.requestReadIndex(round.ctx);
  }
}
