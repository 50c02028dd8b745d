import { CommonEnv, createLogger, kafkaSecurityOf, loadConfig, runProcess, ToolEnv } from '@consult/config';
import { allTopicSpecs, topicNames } from '@consult/contracts';
import { provideInfrastructure } from '@consult/environment';
import { BatchingProducer, createKafka, ensureTopics } from '@consult/kafka';
import { parseAdminCommand, USAGE } from './cli.js';
import { DEV_KEYS, issueKeys, knownKeys, revokeKey, rotateKey } from './keys.js';

const config = loadConfig({ ...ToolEnv, LOG_LEVEL: { ...ToolEnv.LOG_LEVEL, default: 'warn' }, NODE_ENV: CommonEnv.NODE_ENV });
const logger = createLogger('admin', { level: config.LOG_LEVEL });
const parsed = parseAdminCommand(process.argv.slice(2), config.NODE_ENV);
if ('error' in parsed) {
  process.stderr.write(`${parsed.error}\n${USAGE}\n`);
  process.exit(2);
}
const { command } = parsed;

await runProcess(logger, async () => {
  const infra = await provideInfrastructure({ logger });
  const kafka = createKafka({ brokers: infra.kafkaBrokers.split(','), clientId: 'admin', logger, security: kafkaSecurityOf(config) });
  const topics = topicNames(config.TOPIC_PREFIX);
  await ensureTopics(kafka, allTopicSpecs(topics), logger);
  const producer = new BatchingProducer(kafka, logger);
  await producer.connect();
  let code = 0;
  try {
    if (command.verb === 'create') {
      const [key] = await issueKeys(producer, topics, [command.request]);
      const expires = command.request.expiresAt ? `expires: ${command.request.expiresAt}\n` : '';
      process.stdout.write(`key id: ${key!.keyId}\nprincipal: ${key!.kind} ${key!.id}\n${expires}secret (shown once, store it now): ${key!.secret}\n`);
    } else if (command.verb === 'revoke' || command.verb === 'rotate') {
      const known = (await knownKeys(kafka, topics, logger)).get(command.keyId);
      if (!known) {
        process.stderr.write(`no key ${command.keyId}: nothing changed\n`);
        code = 1;
      } else if (known.revokedAt) {
        process.stderr.write(`key ${command.keyId} was already revoked at ${known.revokedAt}\n`);
        code = command.verb === 'revoke' ? 0 : 1;
      } else if (command.verb === 'revoke') {
        await revokeKey(producer, topics, known, command.reason);
        process.stdout.write(`revoked ${command.keyId} (${known.principal.kind} ${known.principal.id})\n`);
      } else {
        const { issued, oldExpiresAt } = await rotateKey(producer, topics, known, command.overlapSeconds);
        process.stdout.write(`new key id: ${issued.keyId}\nprincipal: ${issued.kind} ${issued.id}\nold key ${command.keyId} expires: ${oldExpiresAt}\nsecret (shown once, store it now): ${issued.secret}\n`);
      }
    } else {
      const issued = await issueKeys(producer, topics, Object.values(DEV_KEYS));
      for (const key of issued) process.stdout.write(`${key.kind.padEnd(20)} ${key.id.padEnd(20)} ${key.secret}\n`);
    }
  } finally {
    await producer.close();
    await infra.stop();
  }
  process.exit(code);
});
