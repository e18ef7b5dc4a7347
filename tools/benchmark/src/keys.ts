/**
 * Key choice for put workloads, as etcd's tool does it: a key of exactly keySize bytes
 * whose leading bytes carry a number in [0, keySpaceSize) — random by default, or counting
 * up with --sequential-keys.
 */
export class KeyGenerator {
  private next: number;

  constructor(
    private readonly keySize: number,
    private readonly keySpaceSize: number,
    private readonly sequential: boolean,
    start = 0,
    private readonly random: () => number = Math.random,
  ) {
    this.next = start;
  }

  nextKey(): Uint8Array {
    const n = this.sequential ? this.next++ % this.keySpaceSize : Math.floor(this.random() * this.keySpaceSize);
    const key = new Uint8Array(this.keySize);
    // Big-endian digits of n from the front, so distinct numbers give distinct keys even
    // when keySize is small (a number wider than the key wraps, as a key space that large
    // cannot fit keySize bytes anyway).
    let rest = n;
    for (let i = Math.min(this.keySize, 6) - 1; i >= 0; i--) {
      key[i] = rest & 0xff;
      rest = Math.floor(rest / 256);
    }
    return key;
  }
}

export function randomBytes(size: number): Uint8Array {
  const value = new Uint8Array(size);
  for (let i = 0; i < size; i++) value[i] = 97 + Math.floor(Math.random() * 26);
  return value;
}
