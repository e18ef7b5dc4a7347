/**
 * Seeded splitmix64 generator: `createRandom(seed)()` yields a uniform float in [0,1).
 * The same seed always yields the same sequence, so a simulated cluster replays exactly.
 */
export function createRandom(seed: bigint | number): () => number {
  const mask = (1n << 64n) - 1n;
  let state = BigInt.asUintN(64, BigInt(seed));
  return () => {
    state = (state + 0x9e3779b97f4a7c15n) & mask;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & mask;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & mask;
    z = z ^ (z >> 31n);
    // Top 53 bits give a double with full precision in [0,1).
    return Number(z >> 11n) / 2 ** 53;
  };
}

/** Uniform integer in [0, n). */
export function randomInt(random: () => number, n: number): number {
  return Math.floor(random() * n);
}
