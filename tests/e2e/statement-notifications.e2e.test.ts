import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_KEYS } from '@consult/admin';
import { verifySignature } from '@consult/notifier';
import { CsoApi, SubscriptionApi, type ConsultationClient } from '@consult/sdk';
import { futureIso, Stack } from '../support/stack.js';
import { EventStreamClient, WebhookReceiver, type ReceivedWebhook } from '../support/webhooks.js';

const SECRET = 'whsec-statements-0123456789';
const ALL = ['cso.statement-submitted', 'cso.statement-review-started', 'cso.statement-forwarded', 'cso.statement-returned', 'cso.statement-acknowledged'];
const CO_SIGNING = ['cso.statement-co-signed', 'cso.statement-co-signing-declined'];

describe('statement notifications: webhooks and the live stream', () => {
  let stack: Stack;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    stack = await new Stack().start();
    receiver = await new WebhookReceiver().start();
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.stop();
  });

  const secretariat = (): CsoApi => new CsoApi(stack.client('secretariat'));
  const committee = (): CsoApi => new CsoApi(stack.client('committee'));

  async function accredit(name: string): Promise<{ id: string; client: ConsultationClient; apiKey: string }> {
    const created = await secretariat().accredit({
      name,
      linkBody: 'Standing Committee',
      accreditedUntil: futureIso(365 * 86_400_000),
      contact: { name: 'A. Contact', email: 'contact@example.org' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const apiKey = created.body.apiKey!;
    return { id: created.body.id, apiKey, client: stack.client('secretariat').withKey(apiKey) };
  }

  async function subscribe(client: ConsultationClient, path: string, events: string[]): Promise<string> {
    const created = await new SubscriptionApi(client).create({ url: `${receiver.url}${path}`, events, secret: SECRET });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body.id;
  }

  const types = (got: ReceivedWebhook[], statementId: string): string[] =>
    got.filter((r) => r.json.event.data.statementId === statementId).map((r) => r.json.type);

  it('tells a CSO of every transition of its statements, the committee of each forwarding, the Secretariat of each submission', async () => {
    const author = await accredit('Steppe Water Alliance');
    const bystander = await accredit('Mekong Delta Forum');
    const authorSubscription = await subscribe(author.client, '/author', ALL);
    await subscribe(bystander.client, '/bystander', ALL);
    await subscribe(stack.client('committee'), '/committee', ALL);
    await subscribe(stack.client('secretariat'), '/secretariat', ['cso.statement-submitted']);
    const authorStream = await EventStreamClient.open(stack.baseUrl, author.apiKey);
    const committeeStream = await EventStreamClient.open(stack.baseUrl, DEV_KEYS.committee.secret);
    const bystanderStream = await EventStreamClient.open(stack.baseUrl, bystander.apiKey);

    const cso = new CsoApi(author.client);
    const first = await cso.submitStatement({ subject: 'Water rights', body: 'A joint monitoring body.', language: 'en' }, randomUUID());
    expect(first.status).toBe(201);
    const accepted = first.body.statementId;
    expect((await secretariat().review(accepted)).status).toBe(200);
    expect((await secretariat().forward(accepted, 'For the March session')).status).toBe(200);
    expect((await committee().acknowledge(accepted)).status).toBe(200);

    const second = await cso.submitStatement({ subject: 'Fisheries', body: 'Seasonal closures.', language: 'en' }, randomUUID());
    const returned = second.body.statementId;
    expect((await secretariat().review(returned)).status).toBe(200);
    expect((await secretariat().return(returned, 'Outside the agenda of the session')).status).toBe(200);

    await stack.until(async () => types(receiver.at('/author'), accepted).length === 4 && types(receiver.at('/author'), returned).length === 3, 20_000, 'the author’s webhooks');
    expect(types(receiver.at('/author'), accepted)).toEqual([
      'cso.statement-submitted',
      'cso.statement-review-started',
      'cso.statement-forwarded',
      'cso.statement-acknowledged',
    ]);
    expect(types(receiver.at('/author'), returned)).toEqual(['cso.statement-submitted', 'cso.statement-review-started', 'cso.statement-returned']);
    const returnedHook = receiver.at('/author').find((r) => r.json.type === 'cso.statement-returned')!;
    expect(returnedHook.json.event.data.reasons).toBe('Outside the agenda of the session');
    expect(returnedHook.json.event.key).toBe(author.id);
    // Signed like every webhook (docs/webhooks.md).
    for (const hook of receiver.at('/author')) expect(verifySignature(SECRET, hook.body, hook.headers['x-signature'] as string)).toBe(true);

    await stack.until(async () => receiver.at('/committee').length >= 2 && receiver.at('/secretariat').length >= 2, 20_000, 'committee and secretariat');
    // The committee hears of the forwarding (and its own acknowledgement), never of what was not forwarded.
    expect(types(receiver.at('/committee'), accepted)).toEqual(['cso.statement-forwarded', 'cso.statement-acknowledged']);
    expect(types(receiver.at('/committee'), returned)).toEqual([]);
    expect(receiver.at('/committee')[0]!.json.event.data.note).toBe('For the March session');
    expect(receiver.at('/secretariat').map((r) => r.json.event.data.statementId)).toEqual([accepted, returned]);
    expect(receiver.at('/bystander')).toEqual([]);

    // Delivery history names the statement.
    const deliveries = (): ReturnType<SubscriptionApi['deliveries']> => new SubscriptionApi(author.client).deliveries(authorSubscription);
    await stack.until(async () => (await deliveries()).body.items.filter((d) => d.status === 'delivered').length === 7, 10_000, 'delivered');
    expect((await deliveries()).body.items).toHaveLength(7);
    expect(new Set((await deliveries()).body.items.map((d) => (d as { statementId?: string }).statementId))).toEqual(new Set([accepted, returned]));

    // The live stream carries the same, filtered the same way.
    await stack.until(async () => authorStream.events.length >= 7 && committeeStream.events.length >= 2, 10_000, 'live streams');
    expect(authorStream.events.map((e) => e.event)).toEqual([
      'cso.statement-submitted',
      'cso.statement-review-started',
      'cso.statement-forwarded',
      'cso.statement-acknowledged',
      'cso.statement-submitted',
      'cso.statement-review-started',
      'cso.statement-returned',
    ]);
    expect(committeeStream.events.map((e) => e.event)).toEqual(['cso.statement-forwarded', 'cso.statement-acknowledged']);
    expect(bystanderStream.events).toEqual([]);
    // An SSE id resumes both the consultation and the statement partitions.
    expect(authorStream.events[0]!.id.split('.')).toHaveLength(12);
    const resumed = await EventStreamClient.open(stack.baseUrl, author.apiKey, authorStream.events[3]!.id);
    await stack.until(async () => resumed.events.length >= 3, 10_000, 'resumed stream');
    expect(resumed.events.map((e) => e.data.data.statementId)).toEqual([returned, returned, returned]);
    // A cursor of consultation partitions only (issued before statement events joined) is still accepted.
    const older = await EventStreamClient.open(stack.baseUrl, author.apiKey, authorStream.events[3]!.id.split('.').slice(0, 6).join('.'));
    for (const s of [authorStream, committeeStream, bystanderStream, resumed, older]) s.close();
  });

  it('retries a statement notification with the same delivery id until the receiver answers 2xx', async () => {
    const author = await accredit('Retrying Forum');
    receiver.answer('/retry', (n) => (n < 3 ? 500 : 204));
    const subscription = await subscribe(author.client, '/retry', ['cso.statement-submitted']);
    await new CsoApi(author.client).submitStatement({ subject: 'Retries', body: 'Twice refused.', language: 'en' }, randomUUID());
    await stack.until(async () => receiver.at('/retry').length === 3, 20_000, 'three attempts');
    const attempts = receiver.at('/retry');
    expect(new Set(attempts.map((a) => a.headers['x-delivery-id'])).size).toBe(1);
    expect(attempts.map((a) => a.headers['x-delivery-attempt'])).toEqual(['1', '2', '3']);
    const deliveries = () => new SubscriptionApi(author.client).deliveries(subscription);
    await stack.until(async () => (await deliveries()).body.items[0]?.status === 'delivered', 10_000, 'delivered');
    expect((await deliveries()).body.items[0]!.attempts.map((a) => a.statusCode)).toEqual([500, 500, 204]);
  });

  it('tells the lead organisation of each co-signature and decline, and the Secretariat when a co-signed statement enters the review queue', async () => {
    const [lead, b, c, d] = [await accredit('Lead Forum'), await accredit('Co-signer B'), await accredit('Co-signer C'), await accredit('Co-signer D')];
    await subscribe(lead.client, '/lead', [...ALL, ...CO_SIGNING]);
    await subscribe(stack.client('secretariat'), '/queue', ['cso.statement-submitted', 'cso.statement-co-signed', 'cso.statement-co-signing-declined']);
    const leadStream = await EventStreamClient.open(stack.baseUrl, lead.apiKey);
    const cso = new CsoApi(lead.client);

    const joint = (await cso.submitStatement({ subject: 'Joint', body: 'We, the undersigned…', language: 'en', coSigners: [b.id, c.id] }, randomUUID())).body.statementId;
    expect((await new CsoApi(b.client).coSign(joint)).status).toBe(200);
    expect((await new CsoApi(c.client).coSign(joint)).body.status).toBe('submitted');
    const refused = (await cso.submitStatement({ subject: 'Refused', body: 'Paragraph 3…', language: 'en', coSigners: [b.id, d.id] }, randomUUID())).body.statementId;
    expect((await new CsoApi(b.client).coSign(refused)).status).toBe(200);
    expect((await new CsoApi(d.client).refuseCoSignature(refused, 'We cannot support paragraph 3')).body.status).toBe('co-signing-declined');
    // Last, on the same stream (so routed after the others): a statement without co-signers.
    const plain = (await cso.submitStatement({ subject: 'Alone', body: 'On our own.', language: 'en' }, randomUUID())).body.statementId;

    await stack.until(
      async () => types(receiver.at('/lead'), refused).length === 3 && types(receiver.at('/lead'), plain).length === 1,
      20_000,
      'the lead’s webhooks',
    );
    expect(types(receiver.at('/lead'), joint)).toEqual(['cso.statement-submitted', 'cso.statement-co-signed', 'cso.statement-co-signed']);
    const signed = receiver.at('/lead').filter((r) => r.json.type === 'cso.statement-co-signed' && r.json.event.data.statementId === joint);
    expect(signed.map((r) => [r.json.event.data.coSignerId, r.json.event.data.awaiting])).toEqual([
      [b.id, [c.id]],
      [c.id, []],
    ]);
    expect(types(receiver.at('/lead'), refused)).toEqual(['cso.statement-submitted', 'cso.statement-co-signed', 'cso.statement-co-signing-declined']);
    const declined = receiver.at('/lead').find((r) => r.json.type === 'cso.statement-co-signing-declined')!;
    expect(declined.json.event.data).toMatchObject({ statementId: refused, coSignerId: d.id, reason: 'We cannot support paragraph 3' });
    expect(declined.json.event.key).toBe(lead.id);
    for (const hook of receiver.at('/lead')) expect(verifySignature(SECRET, hook.body, hook.headers['x-signature'] as string)).toBe(true);

    // The Secretariat hears of each statement once, when it enters the queue: the last co-signature, or the
    // submission of one that names no co-signer; never of a statement still awaiting signatures, or declined.
    await stack.until(async () => types(receiver.at('/queue'), plain).length === 1 && types(receiver.at('/queue'), joint).length >= 1, 20_000, 'the queue');
    expect(types(receiver.at('/queue'), joint)).toEqual(['cso.statement-co-signed']);
    expect(receiver.at('/queue').find((r) => r.json.event.data.statementId === joint)!.json.event.data.awaiting).toEqual([]);
    expect(types(receiver.at('/queue'), refused)).toEqual([]);
    expect(types(receiver.at('/queue'), plain)).toEqual(['cso.statement-submitted']);

    // The live stream says the same to the lead.
    await stack.until(async () => leadStream.events.length >= 7, 10_000, 'the lead’s live stream');
    expect(leadStream.events.map((e) => e.event)).toEqual([
      'cso.statement-submitted',
      'cso.statement-co-signed',
      'cso.statement-co-signed',
      'cso.statement-submitted',
      'cso.statement-co-signed',
      'cso.statement-co-signing-declined',
      'cso.statement-submitted',
    ]);
    leadStream.close();
  });

  it('dead-letters a statement notification whose receiver always fails, and re-sends it on request', async () => {
    const author = await accredit('Unreachable Forum');
    let failing = true;
    receiver.answer('/dead', () => (failing ? 500 : 204));
    const subscription = await subscribe(author.client, '/dead', ['cso.statement-submitted']);
    const submitted = await new CsoApi(author.client).submitStatement({ subject: 'Lost', body: 'Never received.', language: 'en' }, randomUUID());
    expect(submitted.status).toBe(201);
    const api = new SubscriptionApi(author.client);
    const deadLetters = async () => (await api.deliveries(subscription, { status: 'dead-lettered' })).body.items;
    await stack.until(async () => (await deadLetters()).length === 1, 30_000, 'the dead letter');
    const [letter] = await deadLetters();
    expect((letter as { statementId?: string }).statementId).toBe(submitted.body.statementId);
    expect(letter!.attempts).toHaveLength(6);
    for (const a of letter!.attempts) expect(a).toMatchObject({ round: 1, outcome: 'failed', statusCode: 500 });
    expect(receiver.at('/dead')).toHaveLength(6);
    expect(new Set(receiver.at('/dead').map((r) => r.headers['x-delivery-id']))).toEqual(new Set([letter!.deliveryId]));

    failing = false;
    expect((await api.redeliver(subscription, letter!.deliveryId)).status).toBe(202);
    await stack.until(async () => receiver.at('/dead').length === 7, 10_000, 'the redelivery');
    expect(receiver.at('/dead')[6]!.headers['x-delivery-id']).toBe(letter!.deliveryId);
    await stack.until(async () => (await api.deliveries(subscription)).body.items[0]?.status === 'delivered', 10_000, 'delivered');
  });

  it('lets any principal subscribe to statement events, and still refuses unknown types', async () => {
    const bad = await new SubscriptionApi(stack.client('secretariat')).create({ url: `${receiver.url}/x`, events: ['cso.accredited'], secret: SECRET });
    expect(bad.status).toBe(400);
  });
});
