import type { RunStats } from './stats';

/** Renders a run like etcd's benchmark tool: summary, histogram, latency distribution, errors. */
export function formatText(stats: RunStats, precise: boolean): string {
  const digits = precise ? 6 : 4;
  const secs = (s: number) => `${s.toFixed(digits)} secs`;
  const lines: string[] = [];
  if (stats.requests > 0) {
    lines.push('', 'Summary:');
    lines.push(`  Total:\t${secs(stats.totalSeconds)}.`);
    lines.push(`  Slowest:\t${secs(stats.slowestSeconds)}.`);
    lines.push(`  Fastest:\t${secs(stats.fastestSeconds)}.`);
    lines.push(`  Average:\t${secs(stats.averageSeconds)}.`);
    lines.push(`  Stddev:\t${secs(stats.stddevSeconds)}.`);
    lines.push(`  Requests/sec:\t${stats.requestsPerSecond.toFixed(digits)}`);
    lines.push('', 'Response time histogram:');
    const widest = Math.max(...stats.histogram.map((b) => b.count));
    for (const bucket of stats.histogram) {
      const bar = widest > 0 ? '∎'.repeat(Math.round((bucket.count * 40) / widest)) : '';
      lines.push(`  ${bucket.upperBoundSeconds.toFixed(digits)} [${bucket.count}]\t|${bar}`);
    }
    lines.push('', 'Latency distribution:');
    for (const { percentile, seconds } of stats.percentiles) {
      if (seconds > 0) lines.push(`  ${percentile}% in ${secs(seconds)}.`);
    }
  }
  const errors = Object.entries(stats.errors);
  if (errors.length > 0) {
    lines.push('', 'Error distribution:');
    for (const [message, count] of errors) lines.push(`  [${count}]\t${message}`);
  }
  return lines.join('\n') + '\n';
}

export function formatJson(stats: RunStats): string {
  return JSON.stringify(stats, null, 2) + '\n';
}
