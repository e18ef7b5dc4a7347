// Pending-request registry: a proposer registers a request ID before proposing, and the apply
// loop resolves it once the entry carrying that ID has been applied. IDs are bigints because
// they are 64-bit request IDs drawn from the member's ID generator.

export interface WaitRegistry<T> {
  /** Registers `id`; the returned promise settles when trigger/fail is called for it. */
  register(id: bigint): Promise<T>;
  /** Resolves the waiter for `id` if one exists (entries proposed elsewhere have none). */
  trigger(id: bigint, value: T): void;
  /** Rejects the waiter for `id` (e.g. timeout, shutdown). */
  fail(id: bigint, error: Error): void;
  /** Rejects every waiter (shutdown). */
  failAll(error: Error): void;
  isRegistered(id: bigint): boolean;
  readonly size: number;
}

interface Pending<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

/**
 * Creates a registry bounded by `pendingMax`: registering past it throws, so a flood of
 * proposals cannot grow memory without limit.
 */
export function createWaitRegistry<T>(pendingMax: number): WaitRegistry<T> {
  const pending = new Map<bigint, Pending<T>>();
  return {
    register(id) {
      if (pending.has(id)) throw new Error(`wait: duplicate request id ${id}`);
      if (pending.size >= pendingMax) throw new Error('etcdserver: too many requests');
      return new Promise<T>((resolve, reject) => pending.set(id, { resolve, reject }));
    },
    trigger(id, value) {
      const waiter = pending.get(id);
      if (!waiter) return;
      pending.delete(id);
      waiter.resolve(value);
    },
    fail(id, error) {
      const waiter = pending.get(id);
      if (!waiter) return;
      pending.delete(id);
      waiter.reject(error);
    },
    failAll(error) {
      const all = [...pending.values()];
      pending.clear();
      for (const waiter of all) waiter.reject(error);
    },
    isRegistered: (id) => pending.has(id),
    get size() {
      return pending.size;
    },
  };
}
