import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repositoryRoot } from '@consult/environment';

/**
 * A broker of a test's own that requires SASL/SCRAM: `infra/kafka/kafka.sh up --sasl` on its own ports and a
 * temporary state dir, so the broker every other test shares is not touched. `assignments` are the lines the
 * launcher printed (KAFKA_BROKERS, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD).
 */
export interface SaslBroker {
  brokers: string;
  assignments: Record<string, string>;
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

export async function startSaslBroker(port: number, controllerPort: number): Promise<SaslBroker> {
  const stateDir = mkdtempSync(join(tmpdir(), 'consult-kafka-sasl-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    KAFKA_STATE_DIR: stateDir,
    // C1 only: a broker that lives for a minute starts faster without the optimising compiler's work.
    KAFKA_HEAP_OPTS: process.env.KAFKA_HEAP_OPTS ?? '-Xms128m -Xmx512m -XX:TieredStopAtLevel=1',
  };
  const stop = async (): Promise<void> => {
    await launch(['down'], env, 60_000);
    rmSync(stateDir, { recursive: true, force: true });
  };
  const up = await launch(['up', '--sasl'], env, 120_000);
  if (up.code !== 0) {
    await stop();
    throw new Error(`kafka.sh up --sasl failed (${up.code}):\n${up.stderr.split('\n').slice(-15).join('\n')}`);
  }
  const assignments: Record<string, string> = {};
  for (const line of up.stdout.trim().split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line);
    if (match) assignments[match[1]!] = match[2]!;
  }
  if (!assignments.KAFKA_BROKERS) {
    await stop();
    throw new Error(`kafka.sh up --sasl printed no KAFKA_BROKERS line:\n${up.stdout}`);
  }
  return { brokers: assignments.KAFKA_BROKERS, assignments, stop };
}
