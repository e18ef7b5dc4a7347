/**
 * A progress line on stderr while a run is under way (only when stderr is a terminal, so
 * logs and CI output stay clean).
 */
export class Progress {
  private readonly doneByWorker = new Map<number, number>();
  private lastDrawMs = 0;
  private readonly enabled = process.stderr.isTTY === true;

  constructor(private readonly total: number) {}

  update(worker: number, done: number): void {
    this.doneByWorker.set(worker, done);
    const now = Date.now();
    if (!this.enabled || now - this.lastDrawMs < 200) return;
    this.lastDrawMs = now;
    let done_ = 0;
    for (const n of this.doneByWorker.values()) done_ += n;
    const width = 40;
    const filled = Math.round((done_ / this.total) * width);
    process.stderr.write(`\r ${done_} / ${this.total} [${'='.repeat(filled)}${' '.repeat(width - filled)}] ${Math.floor((done_ * 100) / this.total)}%`);
  }

  finish(): void {
    if (this.enabled) process.stderr.write('\n');
  }
}
