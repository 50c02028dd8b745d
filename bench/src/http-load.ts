import { Agent, request } from 'node:http';

export interface LoadResult {
  sent: number;
  byStatus: Record<number, number>;
  seconds: number;
  latenciesMs: number[];
}

export interface RequestSpec {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * A lean closed-loop HTTP load generator on node:http with keep-alive: `concurrency` workers each send the next
 * request as soon as the previous one is answered, for `seconds`. Cheaper per request than fetch, so more of the
 * two cores are left to the system under test.
 */
export async function runLoad(
  baseUrl: string,
  next: (i: number) => RequestSpec,
  options: { concurrency: number; seconds: number; maxRequests?: number },
): Promise<LoadResult> {
  const url = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const byStatus: Record<number, number> = {};
  const latenciesMs: number[] = [];
  let counter = 0;
  const started = performance.now();
  const endAt = started + options.seconds * 1000;
  const one = (spec: RequestSpec): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, method: spec.method, path: spec.path, agent, headers: spec.headers },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      if (spec.body) req.end(spec.body);
      else req.end();
    });
  const worker = async (): Promise<void> => {
    while (performance.now() < endAt && (options.maxRequests === undefined || counter < options.maxRequests)) {
      const spec = next(counter++);
      const t0 = performance.now();
      const status = await one(spec).catch(() => 0);
      latenciesMs.push(performance.now() - t0);
      byStatus[status] = (byStatus[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  agent.destroy();
  return { sent: counter, byStatus, seconds: (performance.now() - started) / 1000, latenciesMs };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
