import type { ComponentChildren } from 'preact';
import { formatRemaining, remaining } from './countdown.js';
import { formatDateTime, useNow, useSession, type Loaded } from './context.js';

/** Shows a loading state, an error with a retry, or the content. */
export function Loading<T>({ result, retry, children }: { result: Loaded<T>; retry?: () => void; children: (value: T) => ComponentChildren }) {
  const { t } = useSession();
  if (result.state === 'loading') return <p aria-busy="true">{t.loading}</p>;
  if (result.state === 'error')
    return (
      <div role="alert" class="error">
        <p>
          {t.error}: {result.message}
        </p>
        {retry && (
          <button type="button" onClick={retry}>
            {t.retry}
          </button>
        )}
      </div>
    );
  return (
    <>
      {result.stale && (
        <p role="status" class="stale" data-stale="true">
          {t.stale}
        </p>
      )}
      {children(result.value)}
    </>
  );
}

/** The deadline in the viewer's time zone. */
export function Deadline({ iso }: { iso: string }) {
  const { lang } = useSession();
  return <time dateTime={iso}>{formatDateTime(iso, lang)}</time>;
}

/** A live countdown to a deadline; a timer role, so screen readers do not announce every second. */
export function Countdown({ deadline, status }: { deadline: string; status: 'open' | 'closed' }) {
  const { t } = useSession();
  const now = useNow();
  if (status === 'closed') return <span class="muted">—</span>;
  const left = remaining(Date.parse(deadline), now);
  return (
    <span role="timer" aria-live="off" class={left.past ? 'countdown past' : 'countdown'} data-countdown={left.past ? 'past' : 'running'}>
      {left.past ? t.closing : formatRemaining(left, t.dayUnit)}
    </span>
  );
}

/** Open, closed, or "deadline passed, closing" while the closing is on its way. */
export function StatusBadge({ status, deadline }: { status: 'open' | 'closed'; deadline: string }) {
  const { t } = useSession();
  const now = useNow();
  const closing = status === 'open' && Date.parse(deadline) <= now;
  return (
    <span class={`badge badge-${closing ? 'closing' : status}`} data-status={status}>
      {closing ? t.closing : t[status]}
    </span>
  );
}

/** A table that may be wider than the screen: scrolls within a labelled, focusable region. */
export function TableRegion({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-region" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
