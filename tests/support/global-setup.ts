import type { TestProject } from 'vitest/node';
import { createLogger } from '@consult/config';
import { provideInfrastructure } from '@consult/environment';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    redisUrl: string;
  }
}

/** Provisions Kafka and Redis once for the stack tests, the same way `npm start` does, and stops what it started. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const logger = createLogger('test-infrastructure', { level: 'info', pretty: false });
  const started = Date.now();
  const infra = await provideInfrastructure({ logger });
  logger.info(
    { kafka: `${infra.kafkaBrokers} (${infra.kafkaSource})`, redis: `${infra.redisUrl} (${infra.redisSource})`, ms: Date.now() - started },
    'test infrastructure ready',
  );
  project.provide('kafkaBrokers', infra.kafkaBrokers);
  project.provide('redisUrl', infra.redisUrl);
  return async () => {
    await infra.stop();
    logger.info('test infrastructure stopped');
  };
}
