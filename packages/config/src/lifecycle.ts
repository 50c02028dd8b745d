import type { Logger } from 'pino';

/** The name the process logs under (`createLogger(name)` binds it as `service`). */
function processNameOf(logger: Logger): string {
  const { service } = logger.bindings() as { service?: unknown };
  return typeof service === 'string' ? service : 'process';
}

export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * The line a process leaves on stderr when start-up is refused for a reason an operator must fix: an error
 * that says so by carrying a stable `code` and `retriable: false` (a topic weaker than declared, a Redis key
 * space of another Kafka cluster, missing infrastructure). Other errors get none: the fatal log line, with its
 * stack, is then the report.
 */
export function startupRefusal(error: unknown, processName: string): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, retriable } = error as Error & { code?: unknown; retriable?: unknown };
  if (typeof code !== 'string' || retriable !== false) return undefined;
  return `${processName}: refusing to start (${code}): ${error.message}\n`;
}

/**
 * Runs a process: starts it, then on SIGINT/SIGTERM stops it once (consumers leave their group, producers
 * flush) and exits. A second signal, or a stop that hangs past the grace period, exits at once. A start-up
 * refused for a reason an operator must fix (`startupRefusal`) also says why on stderr, in plain text.
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
    const refusal = startupRefusal(error, processNameOf(logger));
    if (refusal) process.stderr.write(refusal);
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
