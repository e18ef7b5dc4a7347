// bin/member: one Keel member, started with etcd's flags and ETCD_* environment variables.
import { ConfigError, parseCommandLine } from './config';
import { createLogger } from './observability/logger';
import { createMetrics } from './observability/metrics';
import { startMember } from './server/member';

async function main(): Promise<void> {
  let outcome;
  try {
    outcome = parseCommandLine(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(error.exitCode);
    }
    throw error;
  }
  if (outcome.kind !== 'run') {
    process.stdout.write(outcome.text.endsWith('\n') ? outcome.text : `${outcome.text}\n`);
    return;
  }
  const config = outcome.config;
  const logger = createLogger({ level: config.logLevel, outputs: config.logOutputs, base: { member: config.name } });
  for (const notice of config.notices) logger.info(notice);
  const metrics = createMetrics();
  let member = await startMember(config, logger, metrics);
  let closing = false;
  // Installing a snapshot from the leader restarts the member inside this process.
  const restartWhenAsked = (): void => {
    void member.restartRequested.then(async () => {
      if (closing) return;
      await member.close();
      member = await startMember(config, logger, metrics);
      restartWhenAsked();
      stopWhenRemoved();
    });
  };
  restartWhenAsked();
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    member.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // A member removed from the cluster stops, as etcd's does (exit status 0).
  const stopWhenRemoved = (): void => {
    const current = member;
    void current.removed.then(() => {
      if (current === member) shutdown('removed from the cluster');
    });
  };
  stopWhenRemoved();
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`member: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
