import type { Logger } from 'pino';

export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * Runs a process: starts it, then on SIGINT/SIGTERM stops it once (consumers leave their group, producers
 * flush) and exits. A second signal, or a stop that hangs past the grace period, exits at once.
 */
export async function runProcess(
  logger: Logger,
  start: () => Promise<Stoppable>,
  options: { stopGraceMs?: number } = {},
): Promise<void> {
  let running: Stoppable;
  try {
    running = await start();
  } catch (error) {
    logger.fatal({ err: error }, 'failed to start');
    process.exitCode = 1;
    // Give pino a moment to flush, then leave: a half-started process must not linger.
    setTimeout(() => process.exit(1), 100).unref();
    return;
  }
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, 'stopping');
    const timer = setTimeout(() => {
      logger.error('stop took too long: exiting');
      process.exit(1);
    }, options.stopGraceMs ?? 30_000);
    timer.unref();
    running
      .stop()
      .then(() => {
        logger.info('stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'stop failed');
        process.exit(1);
      });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
