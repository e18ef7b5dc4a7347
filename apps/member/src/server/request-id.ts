// Request IDs unique across members and restarts: the low 16 bits of the member ID in the top
// two bytes, then a 40-bit millisecond timestamp taken at start and an 8-bit counter that
// carries into the timestamp bits. Restarting more than a millisecond later never repeats an ID
// as long as fewer than 256 IDs per millisecond were issued on average before the restart.

const SUFFIX_BITS = 48n;
const SUFFIX_MASK = (1n << SUFFIX_BITS) - 1n;
const COUNTER_BITS = 8n;
const TIMESTAMP_MASK = (1n << 40n) - 1n;

export interface RequestIdGenerator {
  next(): bigint;
}

export function createRequestIdGenerator(memberId: bigint, nowMs: number): RequestIdGenerator {
  const prefix = (memberId & 0xffffn) << SUFFIX_BITS;
  let suffix = (BigInt(Math.floor(nowMs)) & TIMESTAMP_MASK) << COUNTER_BITS;
  return {
    next() {
      suffix = (suffix + 1n) & SUFFIX_MASK;
      return prefix | suffix;
    },
  };
}
