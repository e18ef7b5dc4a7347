// bin/benchmark: etcd v3 API load generator whose commands and flags mirror etcd's own
// benchmark tool, so figures compare with published ones.
import { parseCommandLine, unaryOptions, watchOptions, leaseOptions, UsageError, type GlobalOptions } from './options';
import { runUnaryWorkload } from './runner/pool';
import { summarize, type RunStats } from './report/stats';
import { formatJson, formatText } from './report/format';
import { runWatchThroughput, runWatchLatency } from './workloads/watch';
import { runLeaseKeepAlive } from './workloads/lease';
import { runCompare } from './compare/compare';

const usage = `Usage: benchmark [global flags] <command> [command flags]

Commands:
  put              put keys (--key-size --val-size --sequential-keys --key-space-size --rate)
  range KEY [END]  range requests (--consistency l|s, --rate)
  txn-put          txns each holding --txn-ops puts (--key-size --val-size --key-space-size)
  watch            event throughput to --streams x --watchers-per-stream watchers (--put-total --put-rate)
  watch-latency    put-to-event latency (--streams --watchers-per-stream --put-total --put-rate)
  lease-keepalive  lease keep-alive round trips (--ttl)
  compare          the same workloads against real etcd and Keel, side by side (--members 1|3 --rounds N --scale F
                   --warmup-runs N --workloads <prefixes> --etcd-binary <path> --keel-binary <path>)

Global flags:
  --endpoints host:port[,host:port]  (default 127.0.0.1:2379)
  --conns N --clients N --total N --precise --output text|json --workers N
`;

function print(stats: RunStats, global: GlobalOptions): void {
  process.stdout.write(global.output === 'json' ? formatJson(stats) : formatText(stats, global.precise));
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(argv);
  if (parsed.help || !parsed.command) {
    process.stdout.write(usage);
    return parsed.help ? 0 : 2;
  }
  const { global } = parsed;
  switch (parsed.command) {
    case 'put':
    case 'range':
    case 'txn-put': {
      const { recorder, totalSeconds } = await runUnaryWorkload(global, unaryOptions(parsed));
      print(summarize(recorder.values(), totalSeconds, recorder.errors), global);
      return recorder.errors.size > 0 && recorder.count === 0 ? 1 : 0;
    }
    case 'watch':
      print(await runWatchThroughput(global, watchOptions(parsed)), global);
      return 0;
    case 'watch-latency':
      print(await runWatchLatency(global, watchOptions(parsed)), global);
      return 0;
    case 'lease-keepalive':
      print(await runLeaseKeepAlive(global, leaseOptions(parsed)), global);
      return 0;
    case 'compare':
      return runCompare(parsed);
    default:
      throw new UsageError(`unknown command "${parsed.command}"\n\n${usage}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Not every error's `code` is a string (a cluster start failure carries an exit code).
    const code = (err as { code?: unknown } | undefined)?.code;
    if (err instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`benchmark: ${(err as Error).message}\n`);
      process.exit(2);
    }
    process.stderr.write(`benchmark: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
