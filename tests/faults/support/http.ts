import { setTimeout as sleep } from 'node:timers/promises';

/** One API call as an integrator makes it: a bounded wait, the body parsed when there is one. */
export async function api(baseUrl: string, key: string, method: string, path: string, body?: unknown, idempotencyKey?: string) {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: (await response.json().catch(() => ({}))) as Record<string, unknown> };
}

export interface ConsultationRequest {
  reference: string;
  deadline: Date;
  reminderOffsetsSeconds: number[];
  addressees: readonly string[];
}

/**
 * Creates a consultation as an integrator would: retried with its key over the gateways in turn, a 202 followed;
 * undefined if it never could within `budgetMs`.
 */
export async function createConsultation(
  baseUrls: readonly string[],
  key: string,
  request: ConsultationRequest,
  budgetMs = 30_000,
  /** Told each answer that was not the consultation's id, so a failure can say why. */
  onAnswer?: (answer: string) => void,
): Promise<string | undefined> {
  const { reference, deadline, reminderOffsetsSeconds, addressees } = request;
  const body = {
    reference,
    title: `Fault suite ${reference}`,
    documents: [{ language: 'en', title: `Document ${reference}` }],
    addressees: [...addressees],
    deadline: deadline.toISOString(),
    reminderOffsetsSeconds,
  };
  const until = Date.now() + budgetMs;
  for (let attempt = 0; Date.now() < until; attempt++) {
    const baseUrl = baseUrls[attempt % baseUrls.length]!;
    try {
      const created = await api(baseUrl, key, 'POST', '/v1/consultations', body, `create-${reference}`);
      if (created.status === 201) return String(created.body.id);
      onAnswer?.(`${reference}: ${created.status} ${JSON.stringify(created.body).slice(0, 160)}`);
      if (created.status === 202) {
        const commandId = String(created.body.commandId);
        while (Date.now() < until) {
          await sleep(300);
          const status = await api(baseUrl, key, 'GET', `/v1/commands/${commandId}`).catch(() => undefined);
          if (status?.body.status === 'accepted') return String((status.body.receipt as Record<string, unknown>).id);
          if (status?.body.status === 'rejected') {
            onAnswer?.(`${reference}: rejected ${JSON.stringify(status.body).slice(0, 160)}`);
            return undefined;
          }
        }
      }
    } catch (error) {
      // not up yet: retry
      onAnswer?.(`${reference}: ${String(error).slice(0, 120)}`);
    }
    await sleep(500);
  }
  return undefined;
}

export async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
