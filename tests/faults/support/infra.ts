import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The fault suite's own Kafka broker and Redis server, on ports of their own, so that killing them disturbs
 * nobody else on the machine. The broker is the project's launcher (`infra/kafka/kafka.sh`) on a temporary
 * state dir; Redis is a plain `redis-server` without persistence (a restart starts empty, as after a loss).
 */
export interface FaultInfra {
  /** Temporary directory: the broker's state, Redis's pid file, the services' logs. */
  dir: string;
  kafkaPort: number;
  kafkaControllerPort: number;
  redisPort: number;
}

export const repoRoot = join(import.meta.dirname, '..', '..', '..');
const kafkaScript = join(repoRoot, 'infra', 'kafka', 'kafka.sh');

export const kafkaStateDir = (infra: FaultInfra): string => join(infra.dir, 'kafka');
export const redisPidFile = (infra: FaultInfra): string => join(infra.dir, 'redis.pid');
export const kafkaBrokers = (infra: FaultInfra): string => `127.0.0.1:${infra.kafkaPort}`;
export const redisUrl = (infra: FaultInfra): string => `redis://127.0.0.1:${infra.redisPort}`;

function kafkaEnv(infra: FaultInfra): NodeJS.ProcessEnv {
  return {
    ...process.env,
    KAFKA_PORT: String(infra.kafkaPort),
    KAFKA_CONTROLLER_PORT: String(infra.kafkaControllerPort),
    KAFKA_STATE_DIR: kafkaStateDir(infra),
    KAFKA_HEAP_OPTS: process.env.KAFKA_HEAP_OPTS ?? '-Xms256m -Xmx768m',
  };
}

/** `kafka.sh up` on the suite's state dir (a restart after a kill reuses the same data). */
export async function kafkaUp(infra: FaultInfra): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', [kafkaScript, 'up'], { env: kafkaEnv(infra), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kafka.sh up failed (${code}):\n${output}`))));
  });
}

export function kafkaDown(infra: FaultInfra): void {
  spawnSync('bash', [kafkaScript, 'down'], { env: kafkaEnv(infra), stdio: 'ignore', timeout: 60_000 });
}

export function kafkaPid(infra: FaultInfra): number | undefined {
  const file = join(kafkaStateDir(infra), 'broker.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function redisPid(infra: FaultInfra): number | undefined {
  if (!existsSync(redisPidFile(infra))) return undefined;
  const pid = Number(readFileSync(redisPidFile(infra), 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A daemonized redis-server on the suite's port, no RDB or AOF: its pid file lets any process kill it. */
export async function redisUp(infra: FaultInfra): Promise<void> {
  const result = spawnSync(
    'redis-server',
    [
      '--port', String(infra.redisPort),
      '--bind', '127.0.0.1',
      '--save', '',
      '--appendonly', 'no',
      '--daemonize', 'yes',
      '--pidfile', redisPidFile(infra),
      '--logfile', join(infra.dir, 'redis.log'),
      '--dir', infra.dir,
    ],
    { encoding: 'utf8', timeout: 10_000 },
  );
  if (result.status !== 0) throw new Error(`redis-server failed to start: ${result.stderr || result.stdout}`);
  for (let i = 0; i < 100; i++) {
    const ping = spawnSync('redis-cli', ['-p', String(infra.redisPort), 'ping'], { encoding: 'utf8' });
    if (ping.stdout.trim() === 'PONG') return;
    await sleep(100);
  }
  throw new Error(`redis-server on ${infra.redisPort} did not answer PING`);
}

export async function killPid(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
}

export async function redisDown(infra: FaultInfra): Promise<void> {
  await killPid(redisPid(infra), 'SIGKILL');
}
