// When the store may be read. Every read of committed state enters here and leaves when done.
// Two gates hold reads that have not started yet:
// - the rewrite gate, while defragment() swaps the database directory (it also waits for the
//   reads already running to finish before it starts);
// - the commit gate, while an apply batch whose answers went out ahead of its write is not yet
//   committed (ApplyBatch.holdReadsUntilCommit), so nobody who heard of a write reads without it.
// A read waits while either gate is closed and checks the store is still usable once through.
import { deferred, type Deferred } from './apply-batch';

export class ReadGates {
  /** Reads in flight. */
  private readers = 0;
  private readersIdle: (() => void) | undefined;
  private rewriteGate: Deferred | undefined;
  /** Set by holdUntilCommit(); the gate itself is made only when a read has to wait at it. */
  private commitHeld = false;
  private commitGate: Deferred | undefined;

  /** `assertUsable` throws once the store is closed or failed. */
  constructor(private readonly assertUsable: () => void) {}

  /** Runs `read` as a read of the store (waits at closed gates first). */
  async read<T>(read: () => Promise<T>): Promise<T> {
    await this.enter();
    try {
      return await read();
    } finally {
      this.leave();
    }
  }

  async enter(): Promise<void> {
    this.assertUsable();
    while (this.rewriteGate !== undefined || this.commitHeld) {
      await (this.commitHeld ? (this.commitGate ??= deferred()) : this.rewriteGate!).promise;
    }
    this.assertUsable();
    this.readers++;
  }

  leave(): void {
    this.readers--;
    if (this.readers === 0 && this.readersIdle !== undefined) {
      const idle = this.readersIdle;
      this.readersIdle = undefined;
      idle();
    }
  }

  /** Whether defragment() holds reads (its directory swap is under way). */
  get rewriting(): boolean {
    return this.rewriteGate !== undefined;
  }

  /** Holds new reads for a rewrite; returns the function that lets them through again. */
  holdForRewrite(): () => void {
    const gate = deferred();
    this.rewriteGate = gate;
    return () => {
      this.rewriteGate = undefined;
      gate.resolve();
    };
  }

  /** Resolves once no read is in flight. */
  async readersDone(): Promise<void> {
    if (this.readers > 0) await new Promise<void>((resolve) => (this.readersIdle = resolve));
  }

  /** Holds new reads until releaseCommitHold() (the open batch's commit ends). */
  holdUntilCommit(): void {
    this.commitHeld = true;
  }

  /** Lets held reads through: the batch committed, failed, or the store closed. */
  releaseCommitHold(): void {
    this.commitHeld = false;
    const gate = this.commitGate;
    this.commitGate = undefined;
    gate?.resolve();
  }
}
