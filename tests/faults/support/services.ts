import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { kafkaBrokers, redisUrl, repoRoot, type FaultInfra } from './infra.js';

/**
 * A process of the system, named by its service and, when there are several, a suffix (`gateway-a`,
 * `projector-2`); each is run from its build as `npm start` (services/devstack) runs them.
 */
export type ServiceName = string;

/** The fault suite's processes: one of each service, two gateways. */
export const SERVICE_NAMES: readonly ServiceName[] = ['consultation', 'statements', 'projector', 'deadlines', 'notifier', 'gateway-a', 'gateway-b'];

/** The service a process runs: its name without the instance suffix. */
export const serviceOf = (name: ServiceName): string => name.replace(/-(?:[a-z]|\d+)$/, '');

export interface ServicesOptions {
  /** The processes `reviveDead` keeps running (default: SERVICE_NAMES). */
  names?: readonly ServiceName[];
  /** Default: the suite's own broker. */
  brokers?: string;
  /** Default: `cms`. */
  keyPrefix?: string;
}

interface Running {
  child: ChildProcess;
  log: string;
  generation: number;
}

/**
 * Starts, kills (SIGKILL: no graceful leave, no flush) and restarts the service processes. Each process writes
 * its stdout and stderr to `<dir>/logs/<name>.<generation>.log`; every pid goes to the pids file so the global
 * teardown can kill whatever is left even if the test process dies.
 */
const FAULT_SUITE_WEBHOOK_SECRETS_KEY = randomBytes(32).toString('base64');

export class Services {
  private readonly running = new Map<ServiceName, Running>();
  private readonly generations = new Map<ServiceName, number>();
  readonly logs: string[] = [];
  /** Exits nobody asked for: a service that died by itself is a finding. */
  readonly unexpectedExits: string[] = [];
  private readonly killing = new Set<ChildProcess>();

  constructor(
    private readonly infra: FaultInfra,
    private readonly pidsFile: string,
    /** The HTTP port of each gateway process. */
    readonly ports: Readonly<Record<ServiceName, number>>,
    private readonly options: ServicesOptions = {},
  ) {
    mkdirSync(join(infra.dir, 'logs'), { recursive: true });
  }

  get names(): readonly ServiceName[] {
    return this.options.names ?? SERVICE_NAMES;
  }

  baseUrl(gateway: ServiceName): string {
    const port = this.ports[gateway];
    if (port === undefined) throw new Error(`${gateway} is not a gateway of this run`);
    return `http://127.0.0.1:${port}`;
  }

  private env(name: ServiceName): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      KAFKA_BROKERS: this.options.brokers ?? kafkaBrokers(this.infra),
      REDIS_URL: redisUrl(this.infra),
      TOPIC_PREFIX: '',
      KEY_PREFIX: this.options.keyPrefix ?? 'cms',
      LOG_LEVEL: process.env.FAULTS_LOG_LEVEL ?? 'info',
      INSTANCE_ID: name,
      // Production mode, with what a test deployment must say explicitly: the development keys the load
      // client uses, a sealing key for webhook secrets, a receiver on loopback, and no per-key rate limit
      // (the open-loop load is far above one key's production allowance).
      ALLOW_DEVELOPMENT_KEYS: 'true',
      WEBHOOK_SECRETS_KEY: FAULT_SUITE_WEBHOOK_SECRETS_KEY,
      ALLOW_PRIVATE_WEBHOOK_TARGETS: 'true',
      RATE_LIMIT_MAX: '0',
    };
    if (this.ports[name] !== undefined) env.PORT = String(this.ports[name]);
    if (serviceOf(name) === 'notifier') {
      // Retries in milliseconds rather than minutes: a delivery missed during a fault is retried within the run.
      Object.assign(env, { DELIVERY_BASE_DELAY_MS: '200', DELIVERY_MAX_DELAY_MS: '2000', DELIVERY_MAX_ATTEMPTS: '10', DELIVERY_TIMEOUT_MS: '2000' });
    }
    return env;
  }

  start(name: ServiceName): void {
    if (this.running.has(name)) throw new Error(`${name} is already running`);
    const generation = (this.generations.get(name) ?? 0) + 1;
    this.generations.set(name, generation);
    const log = join(this.infra.dir, 'logs', `${name}.${generation}.log`);
    this.logs.push(log);
    const service = serviceOf(name);
    const out = createWriteStream(log, { flags: 'a' });
    const child = spawn(process.execPath, [join(repoRoot, 'services', service, 'dist', 'main.js')], {
      env: this.env(name),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(out);
    child.stderr.pipe(out);
    if (child.pid) appendFileSync(this.pidsFile, `${child.pid}\n`);
    child.once('exit', (code, signal) => {
      if (!this.killing.has(child)) this.unexpectedExits.push(`${name} (generation ${generation}) exited by itself: code ${code} signal ${signal}; log ${log}`);
      if (this.running.get(name)?.child === child) this.running.delete(name);
    });
    this.running.set(name, { child, log, generation });
  }

  /** SIGKILL and wait until the process is gone. */
  async kill(name: ServiceName): Promise<void> {
    const running = this.running.get(name);
    if (!running) return;
    this.killing.add(running.child);
    const exited = new Promise<void>((resolve) => {
      if (running.child.exitCode !== null || running.child.signalCode !== null) resolve();
      else running.child.once('exit', () => resolve());
    });
    running.child.kill('SIGKILL');
    await Promise.race([exited, sleep(10_000)]);
    this.running.delete(name);
  }

  /** Restarts a service that died by itself (so the next fault starts from a whole system). */
  reviveDead(): ServiceName[] {
    const revived: ServiceName[] = [];
    for (const name of this.names)
      if (!this.running.has(name)) {
        this.start(name);
        revived.push(name);
      }
    return revived;
  }

  isRunning(name: ServiceName): boolean {
    return this.running.has(name);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running.keys()].map((name) => this.kill(name)));
  }
}
