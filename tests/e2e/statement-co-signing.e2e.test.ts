import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiResponse, ConsultationClient } from '@consult/sdk';
import { CsoApi } from '@consult/sdk';
import { futureIso, Stack } from '../support/stack.js';

interface CoSigner {
  csoId: string;
  status: 'pending' | 'confirmed' | 'declined';
  at?: string;
  reason?: string;
  blocked?: string;
}
interface Statement {
  statementId: string;
  csoId: string;
  status: string;
  coSigners?: CoSigner[];
  history: { status: string; reasons?: string }[];
}
interface Org {
  id: string;
  client: ConsultationClient;
}

describe('co-signed statements', () => {
  let stack: Stack;
  let counter = 0;
  beforeAll(async () => {
    stack = await new Stack().start();
  });
  afterAll(async () => stack?.stop());

  const secretariat = (): ConsultationClient => stack.client('secretariat');
  async function accredit(accreditedUntil = futureIso(365 * 86_400_000)): Promise<Org> {
    counter += 1;
    const created = await new CsoApi(secretariat()).accredit({
      name: `Organisation ${counter}`,
      linkBody: 'Standing Committee',
      accreditedUntil,
      contact: { name: 'A. Contact', email: 'contact@example.org' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return { id: created.body.id, client: secretariat().withKey(created.body.apiKey!) };
  }
  const submit = (lead: Org, coSigners: string[]) =>
    lead.client.request<{ statementId: string; status: string }>(
      'POST',
      '/v1/cso-statements',
      { subject: 'Joint statement on water rights', body: 'We, the undersigned…', language: 'en', coSigners },
      { 'idempotency-key': randomUUID() },
    );
  const coSign = (org: Org, id: string): Promise<ApiResponse<Statement>> => org.client.request('POST', `/v1/cso-statements/${id}/co-signature`);
  const decline = (org: Org, id: string, reason: string): Promise<ApiResponse<Statement>> =>
    org.client.request('POST', `/v1/cso-statements/${id}/co-signature/refusal`, { reason });
  const read = (client: ConsultationClient, id: string): Promise<ApiResponse<Statement>> => client.request('GET', `/v1/cso-statements/${id}`);
  const inQueue = async (id: string): Promise<boolean> =>
    (await secretariat().request<{ items: Statement[] }>('GET', '/v1/cso-statements?queue=review&limit=200')).body.items.some((s) => s.statementId === id);

  it('waits for both co-signers before the review queue, showing who signed when', async () => {
    const [lead, b, c, stranger] = [await accredit(), await accredit(), await accredit(), await accredit()];
    const submitted = await submit(lead, [b.id, c.id]);
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    expect(submitted.body.status).toBe('awaiting-co-signatures');
    const id = submitted.body.statementId;
    expect(await inQueue(id)).toBe(false);
    expect((await secretariat().request('POST', `/v1/cso-statements/${id}/review`)).status).toBe(409);
    // Co-signers read it (and list it); another organisation and the committee do not see it.
    expect((await read(b.client, id)).body.coSigners).toEqual([
      { csoId: b.id, status: 'pending' },
      { csoId: c.id, status: 'pending' },
    ]);
    expect((await b.client.request<{ items: Statement[] }>('GET', '/v1/cso-statements')).body.items.map((s) => s.statementId)).toContain(id);
    expect((await read(stranger.client, id)).status).toBe(404);
    expect((await coSign(stranger, id)).status).toBe(404);
    expect((await read(stack.client('committee'), id)).status).toBe(404);
    // The author does not co-sign its own statement.
    expect((await coSign(lead, id)).status).toBe(403);

    const first = await coSign(b, id);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.status).toBe('awaiting-co-signatures');
    expect(first.body.coSigners![0]).toMatchObject({ csoId: b.id, status: 'confirmed', at: expect.any(String) });
    expect(first.body.coSigners![1]).toEqual({ csoId: c.id, status: 'pending' });
    expect(await inQueue(id)).toBe(false);
    // Sent again: the same answer, nothing recorded twice.
    const again = await coSign(b, id);
    expect(again.status).toBe(200);
    expect(again.body.coSigners![0]!.at).toBe(first.body.coSigners![0]!.at);

    const second = await coSign(c, id);
    expect(second.status).toBe(200);
    expect(second.body.status).toBe('submitted');
    expect(second.body.coSigners!.map((s) => s.status)).toEqual(['confirmed', 'confirmed']);
    expect(second.body.history.map((h) => h.status)).toEqual(['awaiting-co-signatures', 'submitted']);
    expect(await inQueue(id)).toBe(true);
    expect((await secretariat().request('POST', `/v1/cso-statements/${id}/review`)).status).toBe(200);
  });

  it('is refused when one co-signer declines, with its reason', async () => {
    const [lead, b, c] = [await accredit(), await accredit(), await accredit()];
    const id = (await submit(lead, [b.id, c.id])).body.statementId;
    expect((await coSign(b, id)).status).toBe(200);
    const declined = await decline(c, id, 'We cannot support paragraph 3');
    expect(declined.status, JSON.stringify(declined.body)).toBe(200);
    expect(declined.body.status).toBe('co-signing-declined');
    expect(declined.body.coSigners![1]).toMatchObject({ csoId: c.id, status: 'declined', reason: 'We cannot support paragraph 3' });
    const seen = await read(lead.client, id);
    expect(seen.body.status).toBe('co-signing-declined');
    expect(seen.body.history.at(-1)).toMatchObject({ status: 'co-signing-declined', reasons: 'We cannot support paragraph 3' });
    expect(await inQueue(id)).toBe(false);
    expect((await coSign(c, id)).status).toBe(409);
    expect((await secretariat().request('POST', `/v1/cso-statements/${id}/review`)).status).toBe(409);
  });

  it('is blocked, with the reason, by a co-signer whose accreditation lapsed or was revoked before confirming', async () => {
    const lead = await accredit();
    const shortLived = await accredit(futureIso(2_500));
    const revoked = await accredit();
    const refused = await submit(lead, [revoked.id, shortLived.id]);
    const id = refused.body.statementId;
    expect((await new CsoApi(secretariat()).revoke(revoked.id, 'Misconduct')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 3_000));

    const late = await coSign(shortLived, id);
    expect(late.status).toBe(403);
    expect((late.problem ?? late.body) as unknown).toMatchObject({ code: 'cso-not-accredited', detail: expect.stringMatching(/lapsed at .*cannot co-sign/) });
    const view = await read(lead.client, id);
    expect(view.body.status).toBe('awaiting-co-signatures');
    expect(view.body.coSigners![0]!.blocked).toMatch(/was revoked at .*cannot co-sign/);
    expect(view.body.coSigners![1]!.blocked).toMatch(/lapsed at .*cannot co-sign/);
    // Naming an organisation that is not accredited is refused at once.
    const named = await submit(lead, [revoked.id]);
    expect(named.status).toBe(422);
    expect((named.problem ?? named.body) as unknown).toMatchObject({ code: 'co-signer-invalid' });
    expect((await submit(lead, [randomUUID()])).status).toBe(422);
    expect((await submit(lead, [lead.id])).status).toBe(422);
  });
});
