import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaClientEnv, kafkaSecurityOf, loadConfig } from '@consult/config';
import { BatchingProducer, clusterIdOf, createKafka, topicOffsets, type KafkaClient, type KafkaSecurity } from '@consult/kafka';
import { startSaslBroker, type SaslBroker } from './support/sasl-broker.js';
import { consultationInput, Stack } from './support/stack.js';
import { testLogger } from './support/kafka.js';

/**
 * Kafka as a trust boundary: against a broker whose only client listener is SASL_PLAINTEXT with SCRAM (the
 * launcher's `up --sasl`, on ports of this file's own), the whole system runs with the credentials from
 * configuration, and a client without credentials or with a wrong password is refused.
 */
const PORT = Number(process.env.KAFKA_SASL_TEST_PORT ?? 22296);

/** The refusals are expected (and asserted): kafkajs need not log them as errors. */
const quiet = testLogger.child({}, { level: 'fatal' });

/** A client that gives up fast: refusals are not worth kafkajs' eight retries. */
function impatient(brokers: string, security?: KafkaSecurity): KafkaClient {
  return createKafka({
    brokers: brokers.split(','),
    clientId: 'sasl-test-intruder',
    logger: quiet,
    ...(security ? { security } : {}),
    patience: { connectionTimeoutMs: 3_000, retries: 1, maxRetryTimeMs: 500 },
  });
}

/** Rejects within `ms`: returns what it rejected with; a success or a hang fails the test. */
async function refusedWithin(ms: number, attempt: () => Promise<unknown>): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    attempt().then(
      () => ({ kind: 'accepted' as const }),
      (error: unknown) => ({ kind: 'refused' as const, error }),
    ),
    new Promise<{ kind: 'hung' }>((resolve) => (timer = setTimeout(() => resolve({ kind: 'hung' }), ms))),
  ]);
  clearTimeout(timer);
  expect(outcome.kind).toBe('refused');
  return outcome.kind === 'refused' ? outcome.error : undefined;
}

/** The error and its causes (kafkajs wraps the last failure after retries), as `Name: message` lines. */
function chain(error: unknown): string {
  const lines: string[] = [];
  for (let e = error as (Error & { cause?: unknown; originalError?: unknown }) | undefined; e && lines.length < 5; e = (e.originalError ?? e.cause) as typeof e)
    lines.push(`${e.name}: ${e.message}`);
  return lines.join('\n');
}

describe('the stack against a broker that requires SASL/SCRAM', () => {
  let broker: SaslBroker;
  let stack: Stack;

  beforeAll(async () => {
    broker = await startSaslBroker(PORT, PORT + 1);
    // The credentials go through configuration exactly as a service reads them from its environment.
    const security = kafkaSecurityOf(loadConfig(KafkaClientEnv, broker.assignments));
    expect(security.sasl).toMatchObject({ mechanism: 'scram-sha-256', username: 'consult' });
    stack = await new Stack({ kafka: { brokers: broker.brokers, security } }).start();
  }, 150_000);

  afterAll(async () => {
    await stack?.stop();
    await broker?.stop();
  }, 90_000);

  it('serves the API: a consultation and a comment are answered 201', async () => {
    const created = await stack.client('secretariat').createConsultation(consultationInput({ reference: 'IO/301' }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const posted = await stack.client('KHM').postComment(created.body.id, { body: 'Cambodia supports the draft.', language: 'en' }, 'khm-sasl-1');
    expect(posted.status, JSON.stringify(posted.body)).toBe(201);
    expect(posted.body).toMatchObject({ memberState: 'KHM', trackingNumber: 'IO/301/KHM/1' });
    const seen = await stack.client('secretariat').getConsultation(created.body.id);
    expect(seen.body.responses).toMatchObject({ KHM: 'commented' });
  });

  it('refuses a client without credentials: it can neither read metadata nor produce, and nothing is written', async () => {
    const topic = stack.topics.consultationCommands;
    const ends = async (): Promise<number[]> => [...(await topicOffsets(stack.kafka, topic, stack.logger)).values()].map((o) => o.high);
    const before = await ends();

    const intruder = impatient(broker.brokers);
    const listed = await refusedWithin(15_000, () => clusterIdOf(intruder));
    // The broker lets an unauthenticated connection ask only for API versions and SASL, then closes it.
    expect(chain(listed)).toMatch(/KafkaJSConnectionClosedError|Closed connection|disconnect/i);

    const producer = new BatchingProducer(intruder, quiet);
    const produced = await refusedWithin(15_000, async () => {
      await producer.connect();
      return producer.send(topic, [{ key: 'intruder', value: '{"type":"consultation.close"}' }]);
    });
    await producer.close().catch(() => undefined);
    expect(chain(produced)).toMatch(/KafkaJSConnectionClosedError|Closed connection|disconnect/i);

    expect(await ends()).toEqual(before);
  });

  it('refuses a client with a wrong password, and one with a mechanism the broker does not offer', async () => {
    const wrong = impatient(broker.brokers, { sasl: { mechanism: 'scram-sha-256', username: 'consult', password: 'not-the-password' } });
    const producer = new BatchingProducer(wrong, quiet);
    const refused = await refusedWithin(15_000, () => producer.connect());
    await producer.close().catch(() => undefined);
    expect(chain(refused)).toMatch(/KafkaJSSASLAuthenticationError[^]*invalid credentials/);

    // PLAIN would send the password in the clear over this listener: the broker offers SCRAM only.
    const plain = impatient(broker.brokers, { sasl: { mechanism: 'plain', username: 'consult', password: broker.assignments.KAFKA_SASL_PASSWORD! } });
    const unsupported = await refusedWithin(15_000, () => clusterIdOf(plain));
    expect(chain(unsupported)).toMatch(/UNSUPPORTED_SASL_MECHANISM|does not support the requested SASL mechanism/);
  });
});
