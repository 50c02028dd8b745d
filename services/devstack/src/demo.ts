import { DEV_KEYS } from '@consult/admin';
import { ConsultationClient, type ApiResponse, type Pending } from '@consult/sdk';

export const DEMO_REFERENCE = 'IO/218';
export const SILENCE_DEMO_REFERENCE = 'IO/219';

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

/** A date (YYYY-MM-DD) `days` from now: a deadline "by <date>", the end of that day in the Secretariat's zone. */
const dateIn = (days: number): string => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

/**
 * Seeds the demo: IO/218 circulated in English (the original), Russian and Kazakh to five member states, with
 * comments from two of them, a nil return from Mongolia and a corrigendum (IO/218/Corr.1); and IO/219, a draft
 * joint statement under silence procedure. Idempotency keys make it safe to run on every start.
 */
export async function seedDemo(baseUrl: string): Promise<{ consultationId: string; silenceConsultationId: string }> {
  const secretariat = new ConsultationClient({ baseUrl, apiKey: DEV_KEYS.secretariat.secret });
  const deadline = new Date(Date.now() + 14 * 86_400_000);
  deadline.setUTCHours(10, 0, 0, 0);
  const created = await secretariat.createConsultation(
    {
      reference: DEMO_REFERENCE,
      title: 'Draft rules of procedure of the Standing Committee',
      summary: 'Member states are invited to comment on the draft rules of procedure before the deadline.',
      documents: [
        { language: 'en', title: 'Draft rules of procedure of the Standing Committee', uri: 'https://docs.example.org/IO-218/en.pdf', original: true },
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
  const mongolia = secretariat.withKey(DEV_KEYS.MNG.secret);
  await receiptOf(mongolia, await mongolia.postNoComments(consultationId), 'demo nil return from MNG failed');
  const corrigendum = await secretariat.issueDocumentVersion(
    consultationId,
    {
      kind: 'corrigendum',
      note: 'Corrects the numbering of rules 7 to 9 in all language versions.',
      documents: [
        { language: 'en', title: 'Draft rules of procedure of the Standing Committee', uri: 'https://docs.example.org/IO-218-Corr.1/en.pdf', original: true },
        { language: 'ru', title: 'Проект правил процедуры Постоянного комитета', uri: 'https://docs.example.org/IO-218-Corr.1/ru.pdf' },
        { language: 'kk', title: 'Тұрақты комитеттің рәсімдер ережесінің жобасы', uri: 'https://docs.example.org/IO-218-Corr.1/kk.pdf' },
      ],
    },
    'demo-IO-218-Corr.1',
  );
  await receiptOf(secretariat, corrigendum, 'demo corrigendum not issued');

  const silence = await secretariat.createConsultation(
    {
      reference: SILENCE_DEMO_REFERENCE,
      title: 'Draft joint statement on confidence-building measures',
      summary: 'Circulated under silence procedure: deemed adopted at the deadline unless a member state breaks silence.',
      documents: [
        { language: 'en', title: 'Draft joint statement on confidence-building measures', original: true },
        { language: 'ru', title: 'Проект совместного заявления о мерах доверия' },
      ],
      addressees: ['KAZ', 'KHM', 'MNG', 'RUS', 'THA'],
      deadline: dateIn(7),
      procedure: 'silence',
    },
    'demo-IO-219',
  );
  const silenceConsultationId = String((await receiptOf(secretariat, silence, 'demo silence consultation not created')).id);
  return { consultationId, silenceConsultationId };
}
