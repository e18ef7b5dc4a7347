// Lets callers wait until the state machine has applied up to an index (e.g. everything
// committed when a lease keep-alive arrived). Waiters are kept in index order.

export class AppliedNotifier {
  private waiters: Array<{ index: number; resolve: () => void }> = [];

  constructor(private applied: number) {}

  get index(): number {
    return this.applied;
  }

  advance(index: number): void {
    if (index <= this.applied) return;
    this.applied = index;
    let released = 0;
    while (released < this.waiters.length && this.waiters[released]!.index <= index) released++;
    const ready = this.waiters.splice(0, released);
    for (const waiter of ready) waiter.resolve();
  }

  wait(index: number): Promise<void> {
    if (index <= this.applied) return Promise.resolve();
    return new Promise((resolve) => {
      let at = this.waiters.length;
      while (at > 0 && this.waiters[at - 1]!.index > index) at--;
      this.waiters.splice(at, 0, { index, resolve });
    });
  }
}
