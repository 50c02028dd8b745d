import type { CommandOutcome } from '@consult/contracts';
import type { ConsultationReadModel } from '@consult/read-models';
import { duplicateClient, type RedisClient as Redis } from '@consult/redis';
import type { Logger } from '@consult/config';

export interface KeyChange {
  keyId: string;
  keyHash: string;
  type: string;
}

interface OutcomeWaiter {
  resolve: (outcome: CommandOutcome | null) => void;
  timer: NodeJS.Timeout;
}

interface VersionWaiter {
  version: number;
  resolve: (reached: boolean) => void;
  timer: NodeJS.Timeout;
}

/**
 * Listens to the projector's notices so a request can be answered once its outcome is known AND the read
 * models show it: a 201 then guarantees read-your-write for the caller's next GET.
 */
export class ProjectionListener {
  private readonly outcomeWaiters = new Map<string, OutcomeWaiter>();
  private readonly versionWaiters = new Map<string, VersionWaiter[]>();
  private readonly versions = new Map<string, number>();
  private subscriber: Redis | undefined;
  private readonly keyListeners: ((change: KeyChange) => void)[] = [];

  constructor(
    private readonly redis: Redis,
    private readonly readModel: ConsultationReadModel,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.subscriber = duplicateClient(this.redis);
    this.subscriber.on('message', (_channel: string, message: string) => this.onNotice(message));
    await this.subscriber.subscribe(this.readModel.projectedChannel);
  }

  private onNotice(message: string): void {
    let notice: { versions?: [string, number][]; outcomes?: CommandOutcome[]; keys?: KeyChange[] };
    try {
      notice = JSON.parse(message) as typeof notice;
    } catch {
      this.logger.warn('unreadable projection notice');
      return;
    }
    for (const outcome of notice.outcomes ?? []) {
      const waiter = this.outcomeWaiters.get(outcome.commandId);
      if (waiter) {
        clearTimeout(waiter.timer);
        this.outcomeWaiters.delete(outcome.commandId);
        waiter.resolve(outcome);
      }
    }
    for (const [key, version] of notice.versions ?? []) this.reached(key, version);
    for (const change of notice.keys ?? []) for (const listener of this.keyListeners) listener(change);
  }

  /** Called for each API key the projector changed (issued, revoked, expiry set), as soon as Redis shows it. */
  onKeyChange(listener: (change: KeyChange) => void): void {
    this.keyListeners.push(listener);
  }

  private reached(key: string, version: number): void {
    if ((this.versions.get(key) ?? 0) < version) this.versions.set(key, version);
    const waiters = this.versionWaiters.get(key);
    if (!waiters) return;
    const still = waiters.filter((w) => {
      if (w.version > version) return true;
      clearTimeout(w.timer);
      w.resolve(true);
      return false;
    });
    if (still.length > 0) this.versionWaiters.set(key, still);
    else this.versionWaiters.delete(key);
  }

  /** Resolves with the outcome, or null after `timeoutMs`. Register before sending the command. */
  waitForOutcome(commandId: string, timeoutMs: number): Promise<CommandOutcome | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.outcomeWaiters.delete(commandId);
        resolve(null);
      }, timeoutMs);
      this.outcomeWaiters.set(commandId, { resolve, timer });
    });
  }

  cancelOutcome(commandId: string): void {
    const waiter = this.outcomeWaiters.get(commandId);
    if (waiter) clearTimeout(waiter.timer);
    this.outcomeWaiters.delete(commandId);
  }

  /**
   * Resolves true once the read model of `key` has applied `version`, false after `timeoutMs`. `readStored`
   * reads the stored version of streams other than consultations (their notices use another key).
   */
  async waitForVersion(
    key: string,
    version: number,
    timeoutMs: number,
    readStored: () => Promise<number> = () => this.readModel.versionOf(this.redis, key),
  ): Promise<boolean> {
    if ((this.versions.get(key) ?? 0) >= version) return true;
    const reached = new Promise<boolean>((resolve) => {
      const waiter: VersionWaiter = {
        version,
        resolve,
        timer: setTimeout(() => {
          const list = this.versionWaiters.get(key)?.filter((w) => w !== waiter) ?? [];
          if (list.length > 0) this.versionWaiters.set(key, list);
          else this.versionWaiters.delete(key);
          resolve(false);
        }, timeoutMs),
      };
      const list = this.versionWaiters.get(key);
      if (list) list.push(waiter);
      else this.versionWaiters.set(key, [waiter]);
    });
    // The notice may have gone out before we subscribed or registered: read the model once.
    const stored = await readStored();
    if (stored >= version) this.reached(key, stored);
    return reached;
  }

  async stop(): Promise<void> {
    for (const w of this.outcomeWaiters.values()) clearTimeout(w.timer);
    for (const list of this.versionWaiters.values()) for (const w of list) clearTimeout(w.timer);
    this.outcomeWaiters.clear();
    this.versionWaiters.clear();
    this.subscriber?.disconnect();
  }
}
