// Pending-request registry: a proposer registers a request ID before proposing, and the apply
// loop resolves it once the entry carrying that ID has been applied. IDs are bigints because
// they are 64-bit request IDs drawn from the member's ID generator.
//
// Timeouts: a waiter may carry a deadline. Rather than a timer per request (measured: creating
// and clearing a setTimeout per put cost ~2-3 µs of CPU at 1000 clients), one periodic sweep
// fails the waiters whose deadline has passed. The sweep timer runs only while some waiter has
// a deadline, so an idle member has no timer; a waiter times out at most one sweep interval
// after its deadline.

export interface WaitTimeout {
  /** Milliseconds from registration until the waiter is failed. */
  readonly ms: number;
  /** The error the waiter is failed with (made only when it does time out). */
  error(): Error;
}

export interface WaitRegistry<T> {
  /** Registers `id`; the returned promise settles when trigger/fail is called for it, or when `timeout` passes. */
  register(id: bigint, timeout?: WaitTimeout): Promise<T>;
  /** Resolves the waiter for `id` if one exists (entries proposed elsewhere have none). */
  trigger(id: bigint, value: T): void;
  /** Rejects the waiter for `id` (e.g. timeout, shutdown). */
  fail(id: bigint, error: Error): void;
  /** Rejects every waiter (shutdown). */
  failAll(error: Error): void;
  isRegistered(id: bigint): boolean;
  readonly size: number;
}

export interface WaitRegistryOptions {
  /** How often waiters with a deadline are checked. Default 50 ms. */
  readonly sweepIntervalMs?: number;
  /** Monotonic clock in milliseconds. Default performance.now. */
  readonly now?: () => number;
}

interface Pending<T> {
  resolve(value: T): void;
  reject(error: Error): void;
  /** When it was registered (clock ms); registration times never decrease along the map's order. */
  registeredAt: number;
  /** registeredAt + timeout, or Infinity without a timeout. */
  deadline: number;
  timeout: WaitTimeout | undefined;
}

const DEFAULT_SWEEP_INTERVAL_MS = 50;

/**
 * Creates a registry bounded by `pendingMax`: registering past it throws, so a flood of
 * proposals cannot grow memory without limit.
 */
export function createWaitRegistry<T>(pendingMax: number, options: WaitRegistryOptions = {}): WaitRegistry<T> {
  const sweepIntervalMs = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
  const now = options.now ?? (() => performance.now());
  // Insertion order is registration order, so registeredAt is non-decreasing along it.
  const pending = new Map<bigint, Pending<T>>();
  /** The shortest timeout ever registered: it bounds how far into the map a sweep must look. */
  let shortestTimeoutMs = Infinity;
  let sweeper: NodeJS.Timeout | undefined;

  const take = (id: bigint): Pending<T> | undefined => {
    const waiter = pending.get(id);
    if (waiter !== undefined) pending.delete(id);
    return waiter;
  };

  /**
   * Fails every waiter past its deadline. Stops at the first waiter registered less than the
   * shortest timeout ago: it and every later waiter (registered no earlier, with a timeout no
   * shorter) cannot have expired yet. So a sweep costs the expired waiters plus the waiters
   * registered within the last shortest timeout, not the whole registry.
   */
  const sweep = (): void => {
    const at = now();
    const expired: Pending<T>[] = [];
    for (const [id, waiter] of pending) {
      if (waiter.registeredAt + shortestTimeoutMs > at) break;
      if (waiter.deadline <= at) {
        pending.delete(id);
        expired.push(waiter);
      }
    }
    if (pending.size === 0 && sweeper !== undefined) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
    for (const waiter of expired) waiter.reject(waiter.timeout!.error());
  };

  return {
    register(id, timeout) {
      if (pending.has(id)) throw new Error(`wait: duplicate request id ${id}`);
      if (pending.size >= pendingMax) throw new Error('etcdserver: too many requests');
      const registeredAt = now();
      if (timeout !== undefined) {
        if (timeout.ms < shortestTimeoutMs) shortestTimeoutMs = timeout.ms;
        if (sweeper === undefined) {
          sweeper = setInterval(sweep, sweepIntervalMs);
          // Pending requests alone do not keep the process alive: its listeners do.
          sweeper.unref();
        }
      }
      const deadline = timeout === undefined ? Infinity : registeredAt + timeout.ms;
      return new Promise<T>((resolve, reject) => pending.set(id, { resolve, reject, registeredAt, deadline, timeout }));
    },
    trigger(id, value) {
      take(id)?.resolve(value);
    },
    fail(id, error) {
      take(id)?.reject(error);
    },
    failAll(error) {
      const all = [...pending.values()];
      pending.clear();
      if (sweeper !== undefined) clearInterval(sweeper);
      sweeper = undefined;
      for (const waiter of all) waiter.reject(error);
    },
    isRegistered: (id) => pending.has(id),
    get size() {
      return pending.size;
    },
  };
}
