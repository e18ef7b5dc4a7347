import { invariant } from '../errors';

/**
 * Bounded ring of App messages in flight to one follower, each recorded by its last entry index
 * and its entry bytes. Full when either the message cap or the byte cap is reached.
 * Invariant: indexes are strictly increasing from start to start+count-1 (mod capacity).
 */
export class Inflights {
  private start = 0;
  private countValue = 0;
  private bytesValue = 0;
  private readonly indexes: Float64Array;
  private readonly sizes: Float64Array;

  /**
   * @param capacity max messages in flight (>= 1)
   * @param maxBytes max entry bytes in flight; 0 = unlimited
   */
  constructor(readonly capacity: number, readonly maxBytes: number) {
    invariant(capacity >= 1, 'inflights capacity must be >= 1');
    this.indexes = new Float64Array(capacity);
    this.sizes = new Float64Array(capacity);
  }

  clone(): Inflights {
    const copy = new Inflights(this.capacity, this.maxBytes);
    copy.start = this.start;
    copy.countValue = this.countValue;
    copy.bytesValue = this.bytesValue;
    copy.indexes.set(this.indexes);
    copy.sizes.set(this.sizes);
    return copy;
  }

  get count(): number {
    return this.countValue;
  }

  get bytes(): number {
    return this.bytesValue;
  }

  /** Records a message whose last entry is `index`. Callers check full() first. */
  add(index: number, bytes: number): void {
    invariant(!this.full(), 'cannot add into a full inflights');
    const pos = (this.start + this.countValue) % this.capacity;
    if (this.countValue > 0) {
      const lastPos = (pos + this.capacity - 1) % this.capacity;
      invariant(index > this.indexes[lastPos]!, () => `inflight index ${index} not above ${this.indexes[lastPos]}`);
    }
    this.indexes[pos] = index;
    this.sizes[pos] = bytes;
    this.countValue++;
    this.bytesValue += bytes;
  }

  /** Frees every message whose last index is <= `to` (they were acknowledged). */
  freeLE(to: number): void {
    while (this.countValue > 0 && this.indexes[this.start]! <= to) {
      this.bytesValue -= this.sizes[this.start]!;
      this.start = (this.start + 1) % this.capacity;
      this.countValue--;
    }
    if (this.countValue === 0) {
      this.start = 0;
      this.bytesValue = 0;
    }
  }

  /** Frees the oldest message (used when acks may have been lost). */
  freeFirstOne(): void {
    if (this.countValue > 0) this.freeLE(this.indexes[this.start]!);
  }

  full(): boolean {
    return this.countValue === this.capacity || (this.maxBytes > 0 && this.bytesValue >= this.maxBytes);
  }

  reset(): void {
    this.start = 0;
    this.countValue = 0;
    this.bytesValue = 0;
  }
}
