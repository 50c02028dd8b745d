/**
 * Waits until the gateway is ready and the given API key works through it. `npm start` seeds the demo only
 * then: right after a reset, the development keys are issued as events and work only once the projector has
 * applied them, and readiness alone could say "ready" a moment before that.
 */
export async function waitForGateway(baseUrl: string, apiKey: string, timeoutMs = 120_000): Promise<void> {
  const headers = { authorization: `Bearer ${apiKey}` };
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ready = await fetch(`${baseUrl}/readyz`).then((r) => r.ok, () => false);
    const keyWorks = ready && (await fetch(`${baseUrl}/v1/consultations?limit=1`, { headers }).then((r) => r.ok, () => false));
    if (keyWorks) return;
    if (Date.now() > until) throw new Error(`the gateway at ${baseUrl} did not become ready, with its keys, within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
