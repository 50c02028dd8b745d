import type { Comment, Consultation, HistoryEvent } from '../api.js';
import { Countdown, Deadline, Loading, StatusBadge, TableRegion } from '../components.js';
import { formatDateTime, useLoad, useSession } from '../context.js';
import { word, type Language, type Strings } from '../i18n.js';

interface Detail {
  consultation: Consultation;
  comments: Comment[];
  history: HistoryEvent[] | null;
}

/** The statuses the API gives (commented, no-comments, pending): a column each, and one for any status it adds. */
const BASE_RESPONSES = ['commented', 'no-comments', 'pending'];

/** One consultation: who has answered (the matrix), the comments with their revisions, and the timeline. */
export function ConsultationView({ id }: { id: string }) {
  const { api, principal, t, lang } = useSession();
  const audits = principal.kind === 'secretariat' || principal.kind === 'auditor';
  const [result, retry] = useLoad<Detail>(
    async () => {
      const [consultation, comments, history] = await Promise.all([
        api.consultation(id),
        principal.kind === 'secretariat' || principal.kind === 'auditor' || principal.kind === 'member-state' ? api.comments(id).then((r) => r.items) : Promise.resolve([]),
        audits ? api.history(id) : Promise.resolve(null),
      ]);
      return { consultation, comments, history };
    },
    [id],
    (event) => event.key === id,
  );
  return (
    <section aria-labelledby="consultation-title">
      <p>
        <a href="#/consultations">← {t.back}</a>
      </p>
      <Loading result={result} retry={retry}>
        {({ consultation: c, comments, history }) => {
          const columns = [...BASE_RESPONSES, ...new Set(Object.values(c.responses).filter((r) => !BASE_RESPONSES.includes(r)))];
          return (
            <>
              <h1 id="consultation-title">
                {c.reference} — {c.title}
              </h1>
              <dl class="facts">
                <dt>{t.status}</dt>
                <dd>
                  <StatusBadge status={c.status} deadline={c.deadline} />
                </dd>
                <dt>{t.deadline}</dt>
                <dd>
                  <Deadline iso={c.deadline} />
                </dd>
                <dt>{t.timeLeft}</dt>
                <dd>
                  <Countdown deadline={c.deadline} status={c.status} />
                </dd>
                <dt>{t.openedAt}</dt>
                <dd>
                  <Deadline iso={c.openedAt} />
                </dd>
                {c.closedAt && (
                  <>
                    <dt>{t.closedAt}</dt>
                    <dd>
                      <Deadline iso={c.closedAt} />
                    </dd>
                  </>
                )}
                <dt>{t.extensions}</dt>
                <dd>{c.deadlineExtensions}</dd>
                {c.procedure === 'silence' && c.silence && (
                  <>
                    <dt>{t.silenceProcedure}</dt>
                    <dd data-silence-outcome={c.silence.outcome ?? 'running'}>
                      {c.silence.outcome ? label(t, c.silence.outcome) : t.silenceRunning}
                      {c.silence.brokenBy.length > 0 && ` — ${t.brokenBy} ${c.silence.brokenBy.map((b) => b.memberState).join(', ')}`}
                      {history?.some((e) => e.type === 'consultation.silence-outcome-revised') && (
                        <>
                          {' '}
                          <small>({t.revisedAfterClosing})</small>
                        </>
                      )}
                    </dd>
                  </>
                )}
              </dl>

              <h2 id="matrix-title">{t.matrixTitle}</h2>
              <TableRegion label={t.matrixTitle}>
                <table class="data matrix" aria-labelledby="matrix-title">
                  <thead>
                    <tr>
                      <th scope="col">{t.addressee}</th>
                      {columns.map((col) => (
                        <th scope="col" key={col}>
                          {label(t, col)}
                        </th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {c.addressees.map((code) => {
                      const response = c.responses[code] ?? 'pending';
                      return (
                        <tr key={code} data-addressee={code} data-response={response}>
                          <th scope="row">{code}</th>
                          {columns.map((col) => (
                            <td key={col} class={col === response ? `cell-${col}` : ''}>
                              {col === response ? (
                                <>
                                  <span aria-hidden="true">●</span>
                                  <span class="sr-only">{label(t, col)}</span>
                                </>
                              ) : (
                                ''
                              )}
                            </td>
                          ))}
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </TableRegion>

              <h2>{t.commentsTitle}</h2>
              {comments.length === 0 ? (
                <p>{t.noComments}</p>
              ) : (
                <ul class="comments">
                  {comments.map((comment) => (
                    <CommentItem key={comment.commentId} comment={comment} />
                  ))}
                </ul>
              )}

              {history && (
                <>
                  <h2>{t.timelineTitle}</h2>
                  <ol class="timeline">
                    {history.map((e) => (
                      <li key={e.sequence} data-event={e.type}>
                        <Deadline iso={e.occurredAt} /> — <strong>{eventLabel(t, e.type)}</strong> {eventDetail(t, e, lang)}
                      </li>
                    ))}
                  </ol>
                </>
              )}
            </>
          );
        }}
      </Loading>
    </section>
  );
}

function CommentItem({ comment }: { comment: Comment }) {
  const { t, lang } = useSession();
  return (
    <li class="comment" data-comment={comment.commentId}>
      <p class="comment-head">
        <strong>{comment.memberState}</strong> · {t.tracking} {comment.trackingNumber} · {t.receivedAt} {formatDateTime(comment.receivedAt, lang)} · {t.revision}{' '}
        {comment.revision}
        {comment.status === 'withdrawn' && <span class="badge badge-closed"> {t.withdrawn}</span>}
      </p>
      <p lang={comment.language} class="comment-body">
        {comment.body}
      </p>
      {comment.revisions.length > 1 && (
        <details>
          <summary>
            {t.revisions} ({comment.revisions.length})
          </summary>
          <ol>
            {comment.revisions.map((r) => (
              <li key={r.revision}>
                {t.revision} {r.revision}, {formatDateTime(r.receivedAt, lang)}: <span lang={r.language}>{r.body}</span>
              </li>
            ))}
          </ol>
        </details>
      )}
    </li>
  );
}

const label = word;

const EVENT_LABELS: Record<string, keyof Strings> = {
  'consultation.opened': 'eventOpened',
  'consultation.comment-submitted': 'eventCommentSubmitted',
  'consultation.comment-amended': 'eventCommentAmended',
  'consultation.comment-withdrawn': 'eventCommentWithdrawn',
  'consultation.deadline-extended': 'eventDeadlineExtended',
  'consultation.reminder-issued': 'eventReminderIssued',
  'consultation.closed': 'eventClosed',
  'consultation.no-comments-submitted': 'eventNoCommentsSubmitted',
  'consultation.silence-broken': 'eventSilenceBroken',
  'consultation.silence-outcome-revised': 'eventSilenceOutcomeRevised',
  'consultation.document-version-issued': 'eventDocumentVersionIssued',
};

function eventLabel(t: Strings, type: string): string {
  const key = EVENT_LABELS[type];
  return key ? word(t, key) : type;
}

function eventDetail(t: Strings, e: HistoryEvent, lang: Language): string {
  const d = e.data;
  const text = (v: unknown): string => (Array.isArray(v) ? v.join(', ') : typeof v === 'string' ? v : '');
  switch (e.type) {
    case 'consultation.comment-submitted':
    case 'consultation.comment-amended':
    case 'consultation.comment-withdrawn':
      return `${text(d.memberState)}${d.trackingNumber ? ` (${text(d.trackingNumber)})` : ''}`;
    case 'consultation.deadline-extended':
      return typeof d.deadline === 'string' ? `→ ${formatDateTime(d.deadline, lang)}` : '';
    case 'consultation.reminder-issued':
      return text(d.pending);
    case 'consultation.opened':
      return text(d.addressees);
    case 'consultation.no-comments-submitted':
      return text(d.memberState);
    case 'consultation.silence-broken':
      return `${text(d.memberState)}: ${text(d.reason)}`;
    case 'consultation.silence-outcome-revised':
      return `${label(t, text(d.previousOutcome))} → ${label(t, text(d.outcome))}: ${text(d.memberState)}, ${t.receivedAt} ${typeof d.receivedAt === 'string' ? formatDateTime(d.receivedAt, lang) : ''}`;
    case 'consultation.document-version-issued':
      return text(d.symbol);
    default:
      return '';
  }
}
