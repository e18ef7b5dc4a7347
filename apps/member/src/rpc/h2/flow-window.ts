/**
 * Flow-control windows (RFC 9113 §5.2, §6.9), one pair per stream and one for the connection.
 */
import { ErrorCode, maxWindowBytes } from '@keel/h2';

/**
 * What we may still send. It can go negative when the peer lowers SETTINGS_INITIAL_WINDOW_SIZE
 * while data is in flight; nothing is sent until it is positive again.
 */
export class SendWindow {
  constructor(private available: number) {}

  get bytes(): number {
    return this.available;
  }

  consume(bytes: number): void {
    this.available -= bytes;
  }

  /** Applies a WINDOW_UPDATE or a SETTINGS delta; returns an error code when it would overflow. */
  grow(bytes: number): number | undefined {
    if (this.available + bytes > maxWindowBytes) return ErrorCode.FlowControlError;
    this.available += bytes;
    return undefined;
  }
}

/**
 * What the peer may still send us, and how much consumed data we have not yet given back.
 * Invariant: 0 <= remaining <= size, and remaining + unacknowledged <= size.
 */
export class ReceiveWindow {
  private remaining: number;
  private consumedSinceUpdate = 0;

  constructor(private readonly size: number) {
    this.remaining = size;
  }

  /** Accounts for a received DATA frame (padding included); false when it overruns the window. */
  receive(bytes: number): boolean {
    if (bytes > this.remaining) return false;
    this.remaining -= bytes;
    return true;
  }

  /**
   * The application consumed `bytes`; returns the WINDOW_UPDATE increment to send now, or 0.
   * Updates are batched until half the window has been consumed, to keep frames few.
   */
  consume(bytes: number): number {
    this.consumedSinceUpdate += bytes;
    if (this.consumedSinceUpdate < this.size / 2) return 0;
    const increment = this.consumedSinceUpdate;
    this.consumedSinceUpdate = 0;
    this.remaining += increment;
    return increment;
  }
}
