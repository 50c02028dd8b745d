import type { TestProject } from 'vitest/node';
import { createLogger } from '@consult/config';
import { provideInfrastructure } from '@consult/environment';
import { startRedisCluster, type RedisCluster } from './redis-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    redisUrl: string;
  }
}

const ports = (value: string): number[] => value.split(',').map(Number);

/**
 * Provisions Kafka and Redis once for the stack tests, the same way `npm start` does, and stops what it started.
 * With `TEST_REDIS=cluster` (`npm run test:e2e:redis-cluster`) Redis is a three-master Redis Cluster of the
 * run's own (`infra/redis/redis-cluster.sh` on `REDIS_CLUSTER_STACK_PORTS`, bus ports
 * `REDIS_CLUSTER_STACK_BUS_PORTS`), and every service of the stack gets its `redis+cluster://` URL.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const logger = createLogger('test-infrastructure', { level: 'info', pretty: false });
  const started = Date.now();
  let cluster: RedisCluster | undefined;
  if (process.env.TEST_REDIS === 'cluster')
    cluster = await startRedisCluster(
      ports(process.env.REDIS_CLUSTER_STACK_PORTS ?? '17201,17202,17203'),
      ports(process.env.REDIS_CLUSTER_STACK_BUS_PORTS ?? '17301,17302,17303'),
    );
  else if (process.env.TEST_REDIS !== undefined && process.env.TEST_REDIS !== 'single')
    throw new Error(`TEST_REDIS is '${process.env.TEST_REDIS}': 'single' (the default) or 'cluster'`);
  const infra = await provideInfrastructure({ logger, ...(cluster ? { env: { ...process.env, REDIS_URL: cluster.url } } : {}) });
  logger.info(
    { kafka: `${infra.kafkaBrokers} (${infra.kafkaSource})`, redis: `${infra.redisUrl} (${infra.redisSource})`, ms: Date.now() - started },
    'test infrastructure ready',
  );
  project.provide('kafkaBrokers', infra.kafkaBrokers);
  project.provide('redisUrl', infra.redisUrl);
  return async () => {
    await infra.stop();
    await cluster?.stop();
    logger.info('test infrastructure stopped');
  };
}
