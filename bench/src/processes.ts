import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Linux counts process CPU time in clock ticks; 100 per second on every x86 and arm64 kernel we run on. */
const TICKS_PER_SECOND = 100;

/** User plus system CPU seconds a process has used so far (from /proc/<pid>/stat), or undefined when gone. */
export function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: count fields from the closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Resident memory of a process in bytes (VmRSS), or undefined when gone. */
export function residentBytesOf(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/** The pid listening on a loopback TCP port (the Kafka broker's JVM), through `ss`; undefined if unknown. */
export function pidListeningOn(port: number): number | undefined {
  try {
    const out = execFileSync('ss', ['-Htlnp', `sport = :${port}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const pid = /pid=(\d+)/.exec(out)?.[1];
    return pid === undefined ? undefined : Number(pid);
  } catch {
    return undefined;
  }
}

/** A service run from its build as production runs it; stdout and stderr go to `<logDir>/<name>.log`. */
export class ServiceProcess {
  readonly child: ChildProcess;
  readonly log: string;
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    script: string,
    env: NodeJS.ProcessEnv,
    logDir: string,
  ) {
    this.log = join(logDir, `${name}.log`);
    const out = createWriteStream(this.log, { flags: 'a' });
    this.child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.pipe(out);
    this.child.stderr?.pipe(out);
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM (a graceful stop), then SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface LogCounts {
  warnings: number;
  errors: number;
  /**
   * Requests the broker refused with CONCURRENT_TRANSACTIONS (a transaction started before the previous one's
   * markers were written): kafkajs logs each answer with the error's description, not its name.
   */
  concurrentTransactions: number;
  /** Lines saying a transaction was aborted. */
  abortedTransactions: number;
}

/** The error's name, or its description as kafkajs logs a broker's answer (its producer then logs the retry too). */
const CONCURRENT_TRANSACTIONS = /CONCURRENT_TRANSACTIONS|another concurrent operation on the same transaction/;

/** Counts pino lines by level (40 warn, 50 error and above) and the transaction troubles a run should own up to. */
export function countLogLines(file: string): LogCounts {
  const counts: LogCounts = { warnings: 0, errors: 0, concurrentTransactions: 0, abortedTransactions: 0 };
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return counts;
  }
  for (const line of text.split('\n')) {
    if (!line) continue;
    const level = Number(/"level":(\d+)/.exec(line)?.[1] ?? 0);
    if (level >= 50) counts.errors += 1;
    else if (level === 40) counts.warnings += 1;
    if (CONCURRENT_TRANSACTIONS.test(line) && !line.includes('"namespace":"Producer"')) counts.concurrentTransactions += 1;
    if (/transaction failed: aborting|aborted transaction/i.test(line)) counts.abortedTransactions += 1;
  }
  return counts;
}
