import { LatencyRecorder } from './latencies';
import { summarize } from './stats';
import { formatText } from './format';

describe('summarize', () => {
  it('computes etcd-style statistics for a known sample', () => {
    const recorder = new LatencyRecorder(4);
    for (let i = 1; i <= 100; i++) recorder.record(i / 1000);
    const stats = summarize(recorder.values(), 2, recorder.errors);
    expect(stats.requests).toBe(100);
    expect(stats.requestsPerSecond).toBe(50);
    expect(stats.fastestSeconds).toBeCloseTo(0.001);
    expect(stats.slowestSeconds).toBeCloseTo(0.1);
    expect(stats.averageSeconds).toBeCloseTo(0.0505);
    expect(stats.stddevSeconds).toBeCloseTo(0.028866, 5);
    const p = Object.fromEntries(stats.percentiles.map((x) => [x.percentile, x.seconds]));
    expect(p[50]).toBeCloseTo(0.051);
    expect(p[99]).toBeCloseTo(0.1);
    expect(stats.histogram.reduce((n, b) => n + b.count, 0)).toBe(100);
  });

  it('merges worker recorders and keeps error counts', () => {
    const a = new LatencyRecorder();
    const b = new LatencyRecorder();
    a.record(0.5);
    b.record(0.25);
    a.recordError('etcdserver: no leader');
    b.recordError('etcdserver: no leader');
    const merged = LatencyRecorder.merge([a.toTransfer(), b.toTransfer()]);
    expect([...merged.values()].sort()).toEqual([0.25, 0.5]);
    expect(merged.errors.get('etcdserver: no leader')).toBe(2);
  });

  it('formats the summary the way etcd benchmark prints it', () => {
    const recorder = new LatencyRecorder();
    recorder.record(0.002);
    recorder.record(0.004);
    const text = formatText(summarize(recorder.values(), 1, recorder.errors), false);
    expect(text).toContain('Summary:\n  Total:\t1.0000 secs.');
    expect(text).toContain('Requests/sec:\t2.0000');
    expect(text).toContain('Latency distribution:');
    expect(text).toContain('99.9% in 0.0040 secs.');
  });
});
