import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { alive, kafkaDown, kafkaPid, kafkaStateDir, kafkaUp, killPid, redisDown, redisUp, type FaultInfra } from './infra.js';

declare module 'vitest' {
  export interface ProvidedContext {
    faultInfra: FaultInfra;
  }
}

/** Pids of the service processes the suite spawned, one a line: the teardown kills any still alive. */
export const servicePidsFile = (infra: FaultInfra): string => join(infra.dir, 'service.pids');

/**
 * Starts the suite's own broker and Redis (ports from FAULTS_KAFKA_PORT / FAULTS_REDIS_PORT, defaults 18092,
 * 18093 and 16379) and stops them, and any service left running, at the end even when the run failed. Logs
 * stay in the temporary directory; the broker's data is deleted.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const kafkaPort = Number(process.env.FAULTS_KAFKA_PORT ?? 18092);
  const infra: FaultInfra = {
    dir: mkdtempSync(join(tmpdir(), 'consult-faults-')),
    kafkaPort,
    kafkaControllerPort: Number(process.env.FAULTS_KAFKA_CONTROLLER_PORT ?? kafkaPort + 1),
    redisPort: Number(process.env.FAULTS_REDIS_PORT ?? 16379),
  };
  const stop = async (): Promise<void> => {
    if (existsSync(servicePidsFile(infra)))
      for (const line of readFileSync(servicePidsFile(infra), 'utf8').split('\n')) {
        const pid = Number(line);
        if (pid > 0 && alive(pid)) await killPid(pid, 'SIGKILL');
      }
    kafkaDown(infra);
    if (alive(kafkaPid(infra))) await killPid(kafkaPid(infra), 'SIGKILL');
    await redisDown(infra);
    rmSync(join(kafkaStateDir(infra), 'data'), { recursive: true, force: true });
    process.stdout.write(`fault suite: infrastructure stopped; logs in ${infra.dir}\n`);
  };
  const started = Date.now();
  try {
    await Promise.all([kafkaUp(infra), redisUp(infra)]);
  } catch (error) {
    await stop();
    throw error;
  }
  process.stdout.write(
    `fault suite: broker 127.0.0.1:${infra.kafkaPort}, redis 127.0.0.1:${infra.redisPort}, dir ${infra.dir} (${Date.now() - started} ms)\n`,
  );
  project.provide('faultInfra', infra);
  return stop;
}
