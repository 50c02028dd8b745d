import { Agent, request } from 'node:http';
import type { RequestSpec } from './http-load.js';

export interface OpenLoopResult {
  offeredPerSecond: number;
  /** Requests due by the schedule. */
  scheduled: number;
  /** Requests the client did not send because `maxInFlight` were already open (it would have had to queue). */
  shed: number;
  byStatus: Record<number, number>;
  /** Answers with status 0: connection errors and timeouts. */
  errors: number;
  /** The schedule's length: rates are per second of schedule (late answers still count for their request). */
  seconds: number;
  /**
   * Latency of 201 answers only, from the moment the schedule said the request was due (not when a socket was
   * free), so queueing in the client counts: no coordinated omission.
   */
  latencies201Ms: number[];
}

/**
 * Open-loop load: requests are sent when the clock says so, at `ratePerSecond`, whatever the answers, spread
 * round-robin over `baseUrls`. A closed loop finds the maximum but hides latency under load; this shows what an
 * integrator sending at a given rate sees. Bounded in time and in open requests, so it always ends.
 */
export async function runOpenLoop(
  baseUrls: readonly string[],
  next: (i: number) => RequestSpec,
  options: { ratePerSecond: number; seconds: number; timeoutMs?: number; maxInFlight?: number },
): Promise<OpenLoopResult> {
  const maxInFlight = options.maxInFlight ?? 4_096;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const targets = baseUrls.map((u) => {
    const url = new URL(u);
    return { host: url.hostname, port: url.port, agent: new Agent({ keepAlive: true, maxSockets: 1_024 }) };
  });
  const byStatus: Record<number, number> = {};
  const latencies201Ms: number[] = [];
  let scheduled = 0;
  let shed = 0;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();
  const send = (i: number, dueAt: number): void => {
    const target = targets[i % targets.length]!;
    const spec = next(i);
    inFlight += 1;
    const done = new Promise<void>((resolve) => {
      const finish = (status: number): void => {
        inFlight -= 1;
        byStatus[status] = (byStatus[status] ?? 0) + 1;
        if (status === 201) latencies201Ms.push(performance.now() - dueAt);
        resolve();
      };
      const req = request(
        { host: target.host, port: target.port, method: spec.method, path: spec.path, agent: target.agent, headers: spec.headers, timeout: timeoutMs },
        (res) => {
          res.resume();
          res.on('end', () => finish(res.statusCode ?? 0));
          res.on('error', () => finish(0));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => finish(0));
      req.end(spec.body);
    });
    pending.add(done);
    void done.then(() => pending.delete(done));
  };
  const started = performance.now();
  const endAt = started + options.seconds * 1000;
  const intervalMs = 1000 / options.ratePerSecond;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(Math.floor((Math.min(now, endAt) - started) / intervalMs), Math.floor((endAt - started) / intervalMs));
      while (scheduled < due) {
        const dueAt = started + scheduled * intervalMs;
        if (inFlight >= maxInFlight) shed += 1;
        else send(scheduled, dueAt);
        scheduled += 1;
      }
      if (now >= endAt) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(pending);
  for (const t of targets) t.agent.destroy();
  return {
    offeredPerSecond: options.ratePerSecond,
    scheduled,
    shed,
    byStatus,
    errors: byStatus[0] ?? 0,
    seconds: options.seconds,
    latencies201Ms,
  };
}
