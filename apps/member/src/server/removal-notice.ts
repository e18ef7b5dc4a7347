// How a member learns that the cluster removed it, and when it should then stop. Two ways, as
// in etcd: it applies its own removal (it stops after a short delay, so the answer to the
// removal request can still go out), or a peer that applied the removal refuses it (final, it
// stops at once: this is how a member cut off before the removal reached it finds out).
import type { Logger } from 'pino';

/** etcd waits about a second after applying its own removal before it stops. */
export const REMOVED_STOP_DELAY_MS = 1000;

export class RemovalNotice {
  /** Resolves when the member should stop. */
  readonly removed: Promise<void>;
  private announce: () => void = () => undefined;
  private noticed = false;

  constructor(
    private readonly logger: Logger,
    private readonly appliedDelayMs = REMOVED_STOP_DELAY_MS,
  ) {
    this.removed = new Promise<void>((resolve) => (this.announce = resolve));
  }

  /** This member applied the conf change removing it. */
  appliedOwnRemoval(): void {
    this.notice(this.appliedDelayMs, { learnedBy: 'applying its own removal' });
  }

  /** A peer refused this member because it was removed (transport removal verdict). */
  refusedBy(peerId: bigint): void {
    this.notice(0, { learnedBy: 'refusal by a peer', peer: peerId.toString(16) });
  }

  /** Logged once; a later, shorter delay wins (a refusal cuts a pending delayed stop short). */
  private notice(delayMs: number, how: Record<string, string>): void {
    if (!this.noticed) {
      this.logger.warn(how, 'the member has been permanently removed from the cluster');
      this.logger.warn('the data-dir used by this member must be removed');
    }
    this.noticed = true;
    if (delayMs === 0) this.announce();
    else setTimeout(this.announce, delayMs).unref();
  }
}
