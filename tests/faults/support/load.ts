import { setTimeout as sleep } from 'node:timers/promises';

/**
 * An open-loop load of comment posts, as integrators send them: requests are scheduled by the clock, never by
 * answers; a request that fails or times out is retried with the same Idempotency-Key (on the other gateway,
 * as a load balancer would) until a definite answer (201 or a 4xx); a 202 is followed through
 * `GET /v1/commands/{id}` to its decision. Every request's life is bounded in attempts and time.
 */
export interface Target {
  consultationId: string;
  /** Member states that may comment (the addressees). */
  states: readonly string[];
  /** Stop choosing this consultation after this time (epoch ms); undefined: always. */
  until?: number;
}

export type RequestStatus = 'pending' | 'acknowledged' | 'refused' | 'undecided';

export interface PostRecord {
  phase: string;
  idempotencyKey: string;
  consultationId: string;
  memberState: string;
  firstSentAt: number;
  status: RequestStatus;
  /** The commentId of the receipt, or the problem code of a refusal. */
  commentId?: string;
  code?: string;
  attempts: number;
  /** For a command the suite produced itself: its id, whose outcome decides the status. */
  commandId?: string;
}

export interface LoadOptions {
  baseUrls: readonly string[];
  keys: Readonly<Record<string, string>>;
  ratePerSecond: number;
  /** One request's whole life: beyond it the request counts as undecided. */
  requestBudgetMs: number;
  attemptTimeoutMs: number;
}

const RETRYABLE = new Set([408, 425, 429]);

export class LoadClient {
  readonly records: PostRecord[] = [];
  /** Every 201: when its attempt was sent and when it was answered. */
  readonly successes: { sentAt: number; answeredAt: number }[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private targets: Target[] = [];
  private running = false;
  private loop: Promise<void> | undefined;
  private phase = '';
  private sequence = 0;
  readonly statusCounts = new Map<string, number>();

  constructor(private readonly options: LoadOptions) {}

  setTargets(targets: Target[]): void {
    this.targets = targets;
  }

  addTargets(targets: Target[]): void {
    this.targets = [...this.targets, ...targets];
  }

  start(phase: string): void {
    if (this.running) throw new Error('load already running');
    this.phase = phase;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Waits for every request to reach a definite answer (or its budget). */
  async drain(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight.size > 0 && Date.now() < deadline) await Promise.race([Promise.race(this.inFlight), sleep(500)]);
    return this.inFlight.size;
  }

  get outstanding(): number {
    return this.inFlight.size;
  }

  private async run(): Promise<void> {
    const started = Date.now();
    const tickMs = 20;
    let issued = 0;
    while (this.running) {
      // Open loop: the number of requests due is a function of elapsed time only.
      const due = Math.floor(((Date.now() - started) * this.options.ratePerSecond) / 1000);
      while (issued < due && this.running) {
        issued++;
        this.issue();
      }
      await sleep(tickMs);
    }
  }

  private pickTarget(): Target | undefined {
    const now = Date.now();
    const live = this.targets.filter((t) => t.until === undefined || t.until > now);
    if (live.length === 0) return undefined;
    return live[Math.floor(Math.random() * live.length)];
  }

  private issue(): void {
    const target = this.pickTarget();
    if (!target) return;
    const memberState = target.states[Math.floor(Math.random() * target.states.length)]!;
    const n = ++this.sequence;
    const record: PostRecord = {
      phase: this.phase,
      idempotencyKey: `ft-${process.pid}-${n}`,
      consultationId: target.consultationId,
      memberState,
      firstSentAt: Date.now(),
      status: 'pending',
      attempts: 0,
    };
    this.records.push(record);
    const life = this.post(record, n).catch((error: unknown) => {
      record.status = 'undecided';
      record.code = `client error: ${String(error)}`;
    });
    this.inFlight.add(life);
    void life.finally(() => this.inFlight.delete(life));
  }

  private count(label: string): void {
    this.statusCounts.set(label, (this.statusCounts.get(label) ?? 0) + 1);
  }

  private async post(record: PostRecord, n: number): Promise<void> {
    const budgetEnd = record.firstSentAt + this.options.requestBudgetMs;
    const key = this.options.keys[record.memberState]!;
    const body = JSON.stringify({ body: `Comment ${record.idempotencyKey} from ${record.memberState}.`, language: 'en' });
    let backoff = 200;
    let gateway = n % this.options.baseUrls.length;
    while (Date.now() < budgetEnd) {
      record.attempts++;
      const baseUrl = this.options.baseUrls[gateway]!;
      const sentAt = Date.now();
      let status = 0;
      let answer: Record<string, unknown> | undefined;
      try {
        const response = await fetch(`${baseUrl}/v1/consultations/${record.consultationId}/comments`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': record.idempotencyKey },
          body,
          // No attempt outlives the request's budget: once drained, every request has its final status.
          signal: AbortSignal.timeout(Math.max(500, Math.min(this.options.attemptTimeoutMs, budgetEnd - Date.now()))),
        });
        status = response.status;
        answer = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
      } catch {
        status = 0;
      }
      this.count(String(status));
      if (status === 201) {
        record.status = 'acknowledged';
        record.commentId = String(answer?.commentId);
        this.successes.push({ sentAt, answeredAt: Date.now() });
        return;
      }
      if (status === 202 && typeof answer?.commandId === 'string') {
        const decided = await this.follow(baseUrl, key, answer.commandId, budgetEnd);
        if (decided === 'accepted') {
          record.status = 'acknowledged';
          return;
        }
        if (decided) {
          record.status = 'refused';
          record.code = decided;
          return;
        }
        // Still pending after a while: send the same request again, as an integrator would.
      } else if (status >= 400 && status < 500 && !RETRYABLE.has(status)) {
        record.status = 'refused';
        record.code = typeof answer?.code === 'string' ? answer.code : String(status);
        return;
      }
      gateway = (gateway + 1) % this.options.baseUrls.length;
      await sleep(backoff / 2 + Math.random() * (backoff / 2));
      backoff = Math.min(backoff * 2, 2_000);
    }
    record.status = 'undecided';
  }

  /** Polls the status URL: 'accepted', the problem code of a rejection, or undefined if still pending. */
  private async follow(baseUrl: string, key: string, commandId: string, budgetEnd: number): Promise<string | undefined> {
    const until = Math.min(budgetEnd, Date.now() + 15_000);
    while (Date.now() < until) {
      await sleep(300);
      try {
        const response = await fetch(`${baseUrl}/v1/commands/${commandId}`, {
          headers: { authorization: `Bearer ${key}` },
          signal: AbortSignal.timeout(Math.max(500, Math.min(this.options.attemptTimeoutMs, until - Date.now()))),
        });
        if (response.status !== 200) continue;
        const status = (await response.json()) as { status: string; receipt?: { commentId?: string }; problem?: { code?: string } };
        if (status.status === 'accepted') return 'accepted';
        if (status.status === 'rejected') return status.problem?.code ?? 'rejected';
      } catch {
        // the gateway may be down: poll again
      }
    }
    return undefined;
  }
}
