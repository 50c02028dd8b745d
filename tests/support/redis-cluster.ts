import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repositoryRoot } from '@consult/environment';

/**
 * A Redis Cluster of a test's own: `infra/redis/redis-cluster.sh up` on the given ports and a temporary state
 * dir. It stops itself: `stop()` in the test's afterAll, and, should the test process die first, a detached
 * watchdog that waits for it to exit and then runs `redis-cluster.sh down`.
 */
export interface RedisCluster {
  /** `redis+cluster://127.0.0.1:<port>,…` as the launcher printed it. */
  url: string;
  stop(): Promise<void>;
}

const launcher = (): string => join(repositoryRoot(), 'infra', 'redis', 'redis-cluster.sh');

function launch(command: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', [launcher(), command], { env, timeout: timeoutMs, killSignal: 'SIGTERM' }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const WATCHDOG = 'while kill -0 "$1" 2>/dev/null; do sleep 2; done; bash "$2" down >/dev/null 2>&1; rm -rf "$3"';

export async function startRedisCluster(ports: readonly number[], busPorts: readonly number[]): Promise<RedisCluster> {
  const stateDir = mkdtempSync(join(tmpdir(), 'consult-redis-cluster-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_CLUSTER_PORTS: ports.join(','),
    REDIS_CLUSTER_BUS_PORTS: busPorts.join(','),
    REDIS_CLUSTER_STATE_DIR: stateDir,
  };
  const watchdog = spawn('bash', ['-c', WATCHDOG, 'redis-cluster-watchdog', String(process.pid), launcher(), stateDir], {
    detached: true,
    stdio: 'ignore',
    env,
  });
  watchdog.unref();
  const stop = async (): Promise<void> => {
    await launch('down', env, 30_000);
    rmSync(stateDir, { recursive: true, force: true });
    if (watchdog.pid !== undefined && watchdog.exitCode === null) process.kill(watchdog.pid);
  };
  const up = await launch('up', env, 60_000);
  const url = /^REDIS_URL=(.+)$/m.exec(up.stdout)?.[1];
  if (up.code !== 0 || !url) {
    await stop();
    throw new Error(`redis-cluster.sh up failed (${up.code}):\n${up.stderr.split('\n').slice(-15).join('\n')}`);
  }
  return { url, stop };
}
