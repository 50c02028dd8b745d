import { useState } from 'preact/hooks';
import { ApiError, type Statement } from '../api.js';
import { Deadline, Loading } from '../components.js';
import { useLoad, useSession } from '../context.js';
import { word } from '../i18n.js';
import type { LiveEvent } from '../live.js';

/** Refetch the queue on any statement event the stream brings (for the Secretariat: submissions, acknowledgements). */
const statementEvent = (event: LiveEvent): boolean => event.type.startsWith('cso.statement-');

/**
 * What the live stream does not bring the Secretariat: another officer's review, forwarding or return, and a
 * co-signed statement entering the queue with its last confirmation. A slow poll catches those up.
 */
const FALLBACK_POLL_MS = 60_000;

/**
 * The Secretariat's review queue, oldest first: start the review, then forward to the Standing Committee or
 * return with reasons. A statement submitted to the Secretariat arrives on the live stream (GET /v1/events,
 * `cso.statement-submitted`), so the queue refreshes as soon as one is submitted; this officer's own actions
 * refresh it when they are done.
 */
export function StatementsView() {
  const { api, principal, t } = useSession();
  const [result, retry] = useLoad(
    async () => {
      const [queue, names] = await Promise.all([api.reviewQueue(), api.csoNames().catch((): Record<string, string> => ({}))]);
      return { items: queue.items, names };
    },
    [],
    statementEvent,
    FALLBACK_POLL_MS,
  );
  const acts = principal.kind === 'secretariat';
  return (
    <section aria-labelledby="statements-title">
      <h1 id="statements-title">{t.statementsTitle}</h1>
      <Loading result={result} retry={retry}>
        {({ items, names }) =>
          items.length === 0 ? (
            <p>{t.noStatements}</p>
          ) : (
            <ul class="statements">
              {items.map((s) => (
                <StatementItem key={s.statementId} statement={s} organisation={names[s.csoId] ?? s.csoId} acts={acts} onChanged={retry} />
              ))}
            </ul>
          )
        }
      </Loading>
    </section>
  );
}

function StatementItem({ statement: s, organisation, acts, onChanged }: { statement: Statement; organisation: string; acts: boolean; onChanged: () => void }) {
  const { api, t, announce } = useSession();
  const [note, setNote] = useState('');
  const [reasons, setReasons] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const id = s.statementId;

  const act = async (step: 'review' | 'forwarding' | 'return', body: object = {}): Promise<void> => {
    setBusy(true);
    setError('');
    try {
      await api.moveStatement(id, step, body);
      announce(`${s.trackingNumber}: ${t.done}`);
      onChanged();
    } catch (e) {
      setError(e instanceof ApiError || e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <li class="statement card" data-statement={id} data-status={s.status}>
      <h2 class="statement-subject" lang={s.language}>
        {s.subject}
      </h2>
      <p class="muted">
        {s.trackingNumber} · {t.organisation}: {organisation} · {t.receivedAt} <Deadline iso={s.receivedAt} /> · {t.status}:{' '}
        <span class="badge">{statusLabel(t, s.status)}</span>
      </p>
      <p lang={s.language}>{s.body}</p>
      {acts && s.status === 'submitted' && (
        <button type="button" disabled={busy} onClick={() => void act('review')}>
          {t.startReview}
        </button>
      )}
      {acts && s.status === 'under-review' && (
        <div class="actions">
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void act('forwarding', note.trim() ? { note: note.trim() } : {});
            }}
          >
            <label for={`note-${id}`}>{t.note}</label>
            <input id={`note-${id}`} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
            <button type="submit" disabled={busy}>
              {t.forward}
            </button>
          </form>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (!reasons.trim()) return setError(t.reasonsRequired);
              void act('return', { reasons: reasons.trim() });
            }}
          >
            <label for={`reasons-${id}`}>{t.reasons}</label>
            <textarea id={`reasons-${id}`} rows={2} value={reasons} onInput={(e) => setReasons(e.currentTarget.value)} />
            <button type="submit" class="secondary" disabled={busy}>
              {t.returnStatement}
            </button>
          </form>
        </div>
      )}
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
    </li>
  );
}

const statusLabel = word;
