import { parseArgs } from 'node:util';
import { attachmentStoreFrom } from '@consult/attachments';
import { kafkaSecurityOf, loadConfig } from '@consult/config';
import { topicNames } from '@consult/contracts';
import { provideInfrastructure } from '@consult/environment';
import { createKafka } from '@consult/kafka';
import { createRedisClient } from '@consult/redis';
import { pino } from 'pino';
import { progressOnStderr, runReplayCommand, type ReplayCommand } from './commands.js';
import { ReplayEnv } from './config.js';

const USAGE = `usage:
  npm run replay -- --consultation <id> [--as-of <RFC 3339>]   history, or the state at that moment (JSON)
  npm run replay -- --rebuild [--keep]                          rebuild read models into a fresh key space and compare
  npm run replay -- --verify [--attachments]                    check every stream's sequence and hash chain
                                                                (and that every referenced attachment is stored intact)
  npm run replay -- --export <file> [--consultation <id>] [--cso <id>]
                                                                NDJSON of every consultation's and organisation's events
                                                                with their chain, or only those named (docs/audit-export.md)
  npm run replay -- --quarantine                                records consumers set aside: where from, who, why
env: TOPIC_PREFIX, KEY_PREFIX (and KAFKA_BROKERS, REDIS_URL, else the local launcher)`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function parse() {
  try {
    return parseArgs({
      options: {
        consultation: { type: 'string' },
        cso: { type: 'string' },
        'as-of': { type: 'string' },
        rebuild: { type: 'boolean' },
        keep: { type: 'boolean' },
        verify: { type: 'boolean' },
        attachments: { type: 'boolean' },
        export: { type: 'string' },
        quarantine: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    });
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
}
const { values } = parse();
if (values.help) fail('');
const config = loadConfig(ReplayEnv);
let command: ReplayCommand;
if (values.rebuild) command = { kind: 'rebuild', keep: values.keep ?? false };
else if (values.verify)
  command = values.attachments
    ? {
        kind: 'verify',
        attachments: attachmentStoreFrom({
          dir: config.ATTACHMENTS_DIR,
          s3Bucket: config.ATTACHMENTS_S3_BUCKET,
          s3Endpoint: config.ATTACHMENTS_S3_ENDPOINT,
          s3Region: config.ATTACHMENTS_S3_REGION,
        }),
      }
    : { kind: 'verify' };
else if (values.quarantine) command = { kind: 'quarantine' };
else if (values.export)
  command = {
    kind: 'export',
    file: values.export,
    ...(values.consultation ? { consultation: values.consultation } : {}),
    ...(values.cso ? { cso: values.cso } : {}),
  };
else if (values.consultation) {
  const asOf = values['as-of'];
  if (asOf !== undefined && Number.isNaN(Date.parse(asOf))) fail(`--as-of ${asOf} is not an RFC 3339 date-time`);
  command = { kind: 'history', consultation: values.consultation, ...(asOf !== undefined ? { asOf } : {}) };
} else fail('say what to do');

// The report is stdout; logs go to stderr with the progress bar.
const logger = pino({ name: 'replay', level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL }, pino.destination(2));
let code = 2;
try {
  const infra = await provideInfrastructure({ logger });
  const kafka = createKafka({ brokers: infra.kafkaBrokers.split(','), clientId: 'replay', logger, security: kafkaSecurityOf(config) });
  const redis = createRedisClient(infra.redisUrl, logger);
  try {
    code = await runReplayCommand(
      {
        kafka,
        redis,
        logger,
        topics: topicNames(config.TOPIC_PREFIX),
        keyPrefix: config.KEY_PREFIX,
        out: (line) => process.stdout.write(`${line}\n`),
        progress: progressOnStderr,
      },
      command,
    );
  } finally {
    redis.disconnect();
    await infra.stop();
  }
} catch (error) {
  logger.error({ err: error }, 'replay failed');
  process.stderr.write(`replay failed: ${error instanceof Error ? error.message : String(error)}\n`);
  code = 2;
}
process.exit(code);
