import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** JSON logs in production and pipes; pretty ones in an interactive terminal during development. */
export function createLogger(
  name: string,
  options: { level?: string; pretty?: boolean; /** Where JSON lines go (default stdout); tests read them. */ destination?: DestinationStream } = {},
): Logger {
  const pretty = options.pretty ?? (process.stdout.isTTY && process.env.NODE_ENV !== 'production');
  const base: LoggerOptions = {
    name,
    level: options.level ?? 'info',
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', 'headers.authorization', 'secret', '*.secret'], censor: '[redacted]' },
  };
  if (pretty) {
    return pino({
      ...base,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } },
    });
  }
  return options.destination ? pino(base, options.destination) : pino(base);
}
