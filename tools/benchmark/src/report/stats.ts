/** Summary statistics of one benchmark run, in the shape etcd's benchmark tool reports. */
export interface RunStats {
  totalSeconds: number;
  requests: number;
  slowestSeconds: number;
  fastestSeconds: number;
  averageSeconds: number;
  stddevSeconds: number;
  requestsPerSecond: number;
  /** Percentile (e.g. 99.9) → latency in seconds. */
  percentiles: { percentile: number; seconds: number }[];
  histogram: { upperBoundSeconds: number; count: number }[];
  errors: Record<string, number>;
}

export const reportedPercentiles = [10, 25, 50, 75, 90, 95, 99, 99.9] as const;
const histogramBuckets = 10;

/**
 * Computes the summary of a run. `latencies` is sorted in place.
 * Percentile p is the first sample at or past rank p% of the sorted samples, the same rule
 * etcd's tool uses, so figures compare directly.
 */
export function summarize(latencies: Float64Array, totalSeconds: number, errors: Map<string, number>): RunStats {
  latencies.sort();
  const n = latencies.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += latencies[i]!;
  const average = n > 0 ? sum / n : 0;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (latencies[i]! - average) ** 2;
  return {
    totalSeconds,
    requests: n,
    slowestSeconds: n > 0 ? latencies[n - 1]! : 0,
    fastestSeconds: n > 0 ? latencies[0]! : 0,
    averageSeconds: average,
    stddevSeconds: n > 0 ? Math.sqrt(squares / n) : 0,
    requestsPerSecond: totalSeconds > 0 ? n / totalSeconds : 0,
    percentiles: percentilesOf(latencies),
    histogram: histogramOf(latencies),
    errors: Object.fromEntries(errors),
  };
}

function percentilesOf(sorted: Float64Array): { percentile: number; seconds: number }[] {
  const n = sorted.length;
  const result: { percentile: number; seconds: number }[] = [];
  if (n === 0) return result;
  for (const percentile of reportedPercentiles) {
    const rank = Math.min(n - 1, Math.ceil((percentile / 100) * n));
    result.push({ percentile, seconds: sorted[rank]! });
  }
  return result;
}

function histogramOf(sorted: Float64Array): { upperBoundSeconds: number; count: number }[] {
  const n = sorted.length;
  if (n === 0) return [];
  const fastest = sorted[0]!;
  const slowest = sorted[n - 1]!;
  const width = (slowest - fastest) / histogramBuckets;
  const buckets = Array.from({ length: histogramBuckets + 1 }, (_, i) => ({
    upperBoundSeconds: i === histogramBuckets ? slowest : fastest + width * i,
    count: 0,
  }));
  let bucket = 0;
  for (let i = 0; i < n; ) {
    if (sorted[i]! <= buckets[bucket]!.upperBoundSeconds || bucket === histogramBuckets) {
      buckets[bucket]!.count++;
      i++;
    } else {
      bucket++;
    }
  }
  return buckets;
}
