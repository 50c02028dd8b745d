import { parseArgs } from 'node:util';
import { createLogger, loadConfig, runProcess, ToolEnv } from '@consult/config';
import { allTopicSpecs, isMemberStateCode, topicNames } from '@consult/contracts';
import { provideInfrastructure } from '@consult/environment';
import { BatchingProducer, createKafka, ensureTopics } from '@consult/kafka';
import { DEV_KEYS, issueKeys, revokeKey, type KeyRequest } from './keys.js';

const USAGE = `usage:
  npm run admin -- keys create --kind <secretariat|member-state|cso|standing-committee|auditor> --id <id> [--name <name>]
  npm run admin -- keys revoke --key-id <id> --secret <secret-or-sha256> [--reason <text>]
  npm run admin -- keys seed-dev      issue the well-known development keys`;

const KINDS = ['secretariat', 'member-state', 'cso', 'standing-committee', 'auditor'] as const;

const config = loadConfig({ ...ToolEnv, LOG_LEVEL: { ...ToolEnv.LOG_LEVEL, default: 'warn' } });
const logger = createLogger('admin', { level: config.LOG_LEVEL });
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    kind: { type: 'string' },
    id: { type: 'string' },
    name: { type: 'string' },
    'key-id': { type: 'string' },
    secret: { type: 'string' },
    reason: { type: 'string' },
  },
});

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

const [noun, verb] = positionals;
if (noun !== 'keys' || !verb || !['create', 'revoke', 'seed-dev'].includes(verb)) fail('unknown command');

await runProcess(logger, async () => {
  const infra = await provideInfrastructure({ logger });
  const kafka = createKafka({ brokers: infra.kafkaBrokers.split(','), clientId: 'admin', logger });
  const topics = topicNames(config.TOPIC_PREFIX);
  await ensureTopics(kafka, allTopicSpecs(topics), logger);
  const producer = new BatchingProducer(kafka, logger);
  await producer.connect();
  try {
    if (verb === 'create') {
      const kind = values.kind as (typeof KINDS)[number] | undefined;
      if (!kind || !KINDS.includes(kind)) fail(`--kind must be one of ${KINDS.join(', ')}`);
      if (!values.id) fail('--id is required');
      if (kind === 'member-state' && !isMemberStateCode(values.id)) fail(`${values.id} is not an ISO 3166-1 alpha-3 code`);
      const request: KeyRequest = { kind, id: values.id, ...(values.name ? { name: values.name } : {}) };
      const [key] = await issueKeys(producer, topics, [request]);
      process.stdout.write(`key id: ${key!.keyId}\nprincipal: ${kind} ${values.id}\nsecret (shown once, store it now): ${key!.secret}\n`);
    } else if (verb === 'revoke') {
      if (!values['key-id'] || !values.secret) fail('--key-id and --secret are required');
      await revokeKey(producer, topics, values['key-id'], values.secret, values.reason ?? 'revoked by an administrator');
      process.stdout.write(`revoked ${values['key-id']}\n`);
    } else {
      const issued = await issueKeys(producer, topics, Object.values(DEV_KEYS));
      for (const key of issued) process.stdout.write(`${key.kind.padEnd(20)} ${key.id.padEnd(20)} ${key.secret}\n`);
    }
  } finally {
    await producer.close();
    await infra.stop();
  }
  process.exit(0);
});
