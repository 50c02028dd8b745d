import { DEV_KEYS } from '@consult/admin';
import { DEMO_REFERENCE, SILENCE_DEMO_REFERENCE } from './demo.js';

/** What `npm start` prints once everything is up: where the API and the console are, the keys, the demo. */
export function startBanner(baseUrl: string, consultationId: string, silenceConsultationId?: string, moreGateways: string[] = []): string {
  const keyLines = Object.values(DEV_KEYS).map((k) => `    ${k.kind.padEnd(20)} ${k.id.padEnd(20)} ${k.secret}`);
  const more = moreGateways.length > 0 ? `  More gateways of the same system: ${moreGateways.join(', ')}\n` : '';
  return `
  Consultation messaging is running at ${baseUrl}  (API docs: ${baseUrl}/docs)
${more}  Console: ${baseUrl}/app/  (sign in with one of the keys below, e.g. the secretariat's)

  Development API keys (Authorization: Bearer <key>):
${keyLines.join('\n')}

  Demo consultation ${DEMO_REFERENCE}: ${consultationId}
    curl -s -H 'Authorization: Bearer ${DEV_KEYS.secretariat.secret}' ${baseUrl}/v1/consultations/${consultationId}
    curl -s -X POST -H 'Authorization: Bearer ${DEV_KEYS.THA.secret}' -H 'Idempotency-Key: tha-1' \\
         -H 'Content-Type: application/json' -d '{"body":"Thailand supports the draft.","language":"en"}' \\
         ${baseUrl}/v1/consultations/${consultationId}/comments
${
  silenceConsultationId
    ? `
  Demo consultation ${SILENCE_DEMO_REFERENCE} under silence procedure: ${silenceConsultationId}
    curl -s -X POST -H 'Authorization: Bearer ${DEV_KEYS.RUS.secret}' -H 'Content-Type: application/json' \\
         -d '{"reason":"Paragraph 4 needs further consultation."}' ${baseUrl}/v1/consultations/${silenceConsultationId}/silence-breaks
`
    : ''
}
  Ctrl-C stops everything this command started.
`;
}
