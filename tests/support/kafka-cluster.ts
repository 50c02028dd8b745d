import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repositoryRoot } from '@consult/environment';

/**
 * A Kafka cluster of a test's own: `infra/kafka/kafka.sh up --brokers N` on the given ports and a temporary
 * state dir, so the broker every other test shares is not touched. It stops itself: `stop()` in the test's
 * afterAll, and, should the test process die first (killed, crashed), a detached watchdog that waits for it to
 * exit and then runs `kafka.sh down`.
 */
export interface KafkaCluster {
  brokers: string;
  /** The launcher's state dir: node `<id>`'s pid is in `node-<id>/broker.pid`. */
  stateDir: string;
  stop(): Promise<void>;
}

const launcher = (): string => join(repositoryRoot(), 'infra', 'kafka', 'kafka.sh');

function launch(command: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', [launcher(), ...command], { env, timeout: timeoutMs, killSignal: 'SIGTERM' }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Waits for process `parent` to go, then stops the cluster and deletes its state: cleanup when nobody else can. */
const WATCHDOG = 'while kill -0 "$1" 2>/dev/null; do sleep 2; done; bash "$2" down >/dev/null 2>&1; rm -rf "$3"';

export async function startKafkaCluster(options: {
  brokers: number;
  ports: readonly number[];
  controllerPorts: readonly number[];
  startTimeoutSeconds?: number;
}): Promise<KafkaCluster> {
  const stateDir = mkdtempSync(join(tmpdir(), 'consult-kafka-cluster-'));
  const startTimeout = options.startTimeoutSeconds ?? 120;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAFKA_PORTS: options.ports.join(','),
    KAFKA_CONTROLLER_PORTS: options.controllerPorts.join(','),
    KAFKA_STATE_DIR: stateDir,
    KAFKA_START_TIMEOUT: String(startTimeout),
    // C1 only and a small heap: three JVMs that live for a minute on a shared machine.
    KAFKA_HEAP_OPTS: process.env.KAFKA_HEAP_OPTS ?? '-Xms128m -Xmx512m -XX:TieredStopAtLevel=1',
  };
  const watchdog = spawn('bash', ['-c', WATCHDOG, 'kafka-cluster-watchdog', String(process.pid), launcher(), stateDir], {
    detached: true,
    stdio: 'ignore',
    env,
  });
  watchdog.unref();
  const stop = async (): Promise<void> => {
    await launch(['down'], env, 90_000);
    rmSync(stateDir, { recursive: true, force: true });
    if (watchdog.pid !== undefined && watchdog.exitCode === null) process.kill(watchdog.pid);
  };
  // The launcher stops the nodes it started when one fails; its own deadline comes before this one.
  const up = await launch(['up', '--brokers', String(options.brokers)], env, (startTimeout + 60) * 1_000);
  const brokers = /^KAFKA_BROKERS=(.+)$/m.exec(up.stdout)?.[1];
  if (up.code !== 0 || !brokers) {
    await stop();
    throw new Error(`kafka.sh up --brokers ${options.brokers} failed (${up.code}):\n${up.stderr.split('\n').slice(-15).join('\n')}`);
  }
  return { brokers, stateDir, stop };
}
