import { DEV_KEYS } from '@consult/admin';
import { ConsultationClient, type ApiResponse, type Pending } from '@consult/sdk';

export const DEMO_REFERENCE = 'IO/218';

/**
 * The receipt of an accepted request, following a 202 to its decision as an integrator would: on a brand-new
 * broker the first transaction (which creates Kafka's transaction log) can outlast the gateway's wait.
 */
async function receiptOf(client: ConsultationClient, response: ApiResponse<unknown>, what: string): Promise<Record<string, unknown>> {
  if (response.status === 201) return response.body as Record<string, unknown>;
  if (response.status === 202) {
    const decided = await client.awaitDecision(response.body as Pending);
    if (decided.body.status === 'accepted' && decided.body.receipt) return decided.body.receipt;
    throw new Error(`${what}: ${JSON.stringify(decided.body)}`);
  }
  throw new Error(`${what}: ${response.status} ${JSON.stringify(response.body)}`);
}

/**
 * Seeds the demo: a consultation circulated in English, Russian and Kazakh to five member states, with
 * comments from two of them. Idempotency keys make it safe to run on every start.
 */
export async function seedDemo(baseUrl: string): Promise<{ consultationId: string }> {
  const secretariat = new ConsultationClient({ baseUrl, apiKey: DEV_KEYS.secretariat.secret });
  const deadline = new Date(Date.now() + 14 * 86_400_000);
  deadline.setUTCHours(10, 0, 0, 0);
  const created = await secretariat.createConsultation(
    {
      reference: DEMO_REFERENCE,
      title: 'Draft rules of procedure of the Standing Committee',
      summary: 'Member states are invited to comment on the draft rules of procedure before the deadline.',
      documents: [
        { language: 'en', title: 'Draft rules of procedure of the Standing Committee', uri: 'https://docs.example.org/IO-218/en.pdf' },
        { language: 'ru', title: 'Проект правил процедуры Постоянного комитета', uri: 'https://docs.example.org/IO-218/ru.pdf' },
        { language: 'kk', title: 'Тұрақты комитеттің рәсімдер ережесінің жобасы', uri: 'https://docs.example.org/IO-218/kk.pdf' },
      ],
      addressees: ['KAZ', 'KHM', 'MNG', 'RUS', 'THA'],
      deadline: deadline.toISOString(),
    },
    'demo-IO-218',
  );
  const consultationId = String((await receiptOf(secretariat, created, 'demo consultation not created')).id);
  const comments: [keyof typeof DEV_KEYS, string, string][] = [
    ['KHM', 'en', 'Cambodia supports the draft and proposes that rule 12 allow written procedure.'],
    ['KAZ', 'ru', 'Казахстан поддерживает проект и предлагает уточнить правило 7 о кворуме.'],
  ];
  for (const [state, language, body] of comments) {
    const client = secretariat.withKey(DEV_KEYS[state].secret);
    const posted = await client.postComment(consultationId, { body, language }, `demo-${state}-1`);
    await receiptOf(client, posted, `demo comment from ${state} failed`);
  }
  return { consultationId };
}
