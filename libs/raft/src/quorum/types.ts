export enum VoteResult {
  /** Neither won nor lost yet: some voters have not answered. */
  Pending = 1,
  Lost = 2,
  Won = 3,
}

/** Returns the index acknowledged (stored) by voter `id`, or undefined if unknown. */
export type AckedIndexer = (id: bigint) => number | undefined;

/** Committed index of an empty configuration: it constrains nothing (neutral for min()). */
export const UNCONSTRAINED_INDEX = Number.MAX_SAFE_INTEGER;
