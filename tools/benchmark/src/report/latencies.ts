/**
 * A growable array of request latencies in seconds, plus the error tally. Workers fill one
 * each; the main thread merges them. Float64Array keeps a million samples at 8 MB and
 * transfers between threads without copying element by element.
 */
export class LatencyRecorder {
  private samples: Float64Array;
  private size = 0;
  readonly errors = new Map<string, number>();

  constructor(expectedCount = 1024) {
    this.samples = new Float64Array(Math.max(16, expectedCount));
  }

  get count(): number {
    return this.size;
  }

  record(latencySeconds: number): void {
    if (this.size === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2);
      grown.set(this.samples);
      this.samples = grown;
    }
    this.samples[this.size++] = latencySeconds;
  }

  recordError(message: string): void {
    this.errors.set(message, (this.errors.get(message) ?? 0) + 1);
  }

  /** The recorded samples (a view, not a copy). */
  values(): Float64Array {
    return this.samples.subarray(0, this.size);
  }

  /** Plain-data form that survives postMessage between worker threads. */
  toTransfer(): { samples: Float64Array; errors: [string, number][] } {
    return { samples: this.values().slice(), errors: [...this.errors] };
  }

  static merge(parts: { samples: Float64Array; errors: [string, number][] }[]): LatencyRecorder {
    const total = parts.reduce((n, p) => n + p.samples.length, 0);
    const merged = new LatencyRecorder(total);
    for (const part of parts) {
      merged.samples.set(part.samples, merged.size);
      merged.size += part.samples.length;
      for (const [message, n] of part.errors) merged.errors.set(message, (merged.errors.get(message) ?? 0) + n);
    }
    return merged;
  }
}
