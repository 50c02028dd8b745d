import type { ChartConfiguration } from 'chart.js';
import { useMemo, useState } from 'preact/hooks';
import { Loading, TableRegion } from '../components.js';
import { formatDuration, formatNumber, useLoad, useSession } from '../context.js';
import { word } from '../i18n.js';
import type { ProgressReport } from '../report-types.js';
import { BarChart } from './chart.js';

const DAY = 86_400_000;
/** yyyy-mm-dd of a local date, for <input type="date">. */
const localDate = (ms: number): string => {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
};
/** Local midnight of a yyyy-mm-dd, as an RFC 3339 instant. */
const startOfDay = (day: string): string => new Date(`${day}T00:00:00`).toISOString();

/** Progress for a period: charts, tables, and the same figures as CSV and PDF. */
export function ReportsView() {
  const { api, t, lang } = useSession();
  const [from, setFrom] = useState(localDate(Date.now() - 30 * DAY));
  const [to, setTo] = useState(localDate(Date.now() + DAY));
  const [period, setPeriod] = useState({ from, to });
  const query = `from=${encodeURIComponent(startOfDay(period.from))}&to=${encodeURIComponent(startOfDay(period.to))}`;
  // Not reloaded on every live event (a report reads every history of the period): Show reloads it.
  const [result, retry] = useLoad<ProgressReport>(() => api.request('GET', `/v1/reports/progress?${query}`), [query]);
  const pct = (share: number | null): string => (share === null ? '—' : `${formatNumber(share * 100, lang)}%`);
  const hours = (seconds: number | null): string => formatDuration(seconds, lang, t.units);
  const file = `progress-${period.from}-${period.to}`;

  return (
    <section aria-labelledby="reports-title">
      <h1 id="reports-title">{t.reportsTitle}</h1>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setPeriod({ from, to });
          retry();
        }}
      >
        <label for="report-from">{t.from}</label>
        <input id="report-from" type="date" value={from} required onInput={(e) => setFrom(e.currentTarget.value)} />
        <label for="report-to">{t.to}</label>
        <input id="report-to" type="date" value={to} required onInput={(e) => setTo(e.currentTarget.value)} />
        <button type="submit">{t.show}</button>
        <button type="button" class="secondary" onClick={() => void api.download(`/v1/reports/progress?${query}&format=csv`, `${file}.csv`)}>
          {t.downloadCsv}
        </button>
        <button type="button" class="secondary" onClick={() => void api.download(`/v1/reports/progress?${query}&format=pdf&lang=${lang}`, `${file}.pdf`)}>
          {t.downloadPdf}
        </button>
      </form>
      <Loading result={result} retry={retry}>
        {(report) => (
          <>
            <h2>{t.totals}</h2>
            <dl class="facts">
              <dt>{t.consultationsTitle}</dt>
              <dd data-total="consultations">{report.totals.consultations}</dd>
              <dt>{t.responded}</dt>
              <dd data-total="responded">
                {report.totals.responded}/{report.totals.addressed} ({pct(report.totals.responseRate)})
              </dd>
              <dt>{t.csos}</dt>
              <dd>
                {t.statementsSubmitted} {report.totals.statements} · {t.colForwarded} {report.totals.forwarded} · {t.colReturned} {report.totals.returned}
              </dd>
            </dl>
            <Charts report={report} />

            <h2 id="ms-title">{t.memberStates}</h2>
            <TableRegion label={t.memberStates}>
              <table class="data" aria-labelledby="ms-title">
                <thead>
                  <tr>
                    <th scope="col">{t.memberState}</th>
                    <th scope="col">{t.addressed}</th>
                    <th scope="col">{t.responded}</th>
                    <th scope="col">{t.responseRate}</th>
                    <th scope="col">{t.medianResponse}</th>
                    <th scope="col">{t.onTime}</th>
                    <th scope="col">{t.reminders}</th>
                    <th scope="col">{t.extensionsGranted}</th>
                  </tr>
                </thead>
                <tbody>
                  {report.memberStates.map((s) => (
                    <tr key={s.memberState} data-member-state={s.memberState}>
                      <th scope="row">{s.memberState}</th>
                      <td>{s.consultations}</td>
                      <td>{s.responded}</td>
                      <td>{pct(s.responseRate)}</td>
                      <td>{hours(s.medianResponseSeconds)}</td>
                      <td>{pct(s.onTimeShare)}</td>
                      <td>{s.remindersBeforeResponse === null ? '—' : formatNumber(s.remindersBeforeResponse, lang)}</td>
                      <td>{s.extensions}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableRegion>

            <h2 id="rc-title">{t.consultationsTitle}</h2>
            <TableRegion label={t.consultationsTitle}>
              <table class="data" aria-labelledby="rc-title">
                <thead>
                  <tr>
                    <th scope="col">{t.reference}</th>
                    <th scope="col">{t.addressed}</th>
                    <th scope="col">{t.responded}</th>
                    <th scope="col">{t.responseRate}</th>
                    <th scope="col">{t.medianResponse}</th>
                    <th scope="col">{t.onTime}</th>
                    <th scope="col">{t.reminders}</th>
                    <th scope="col">{t.extensionsGranted}</th>
                  </tr>
                </thead>
                <tbody>
                  {report.consultations.map((c) => (
                    <tr key={c.id}>
                      <th scope="row">
                        <a href={`#/consultations/${c.id}`}>{c.reference}</a> {c.title}
                        {c.silenceOutcome && <span data-silence-outcome={c.silenceOutcome}> ({word(t, c.silenceOutcome)})</span>}
                      </th>
                      <td>{c.addressees}</td>
                      <td>{c.responded}</td>
                      <td>{pct(c.responseRate)}</td>
                      <td>{hours(c.medianResponseSeconds)}</td>
                      <td>{pct(c.onTimeShare)}</td>
                      <td>{c.remindersBeforeResponse === null ? '—' : formatNumber(c.remindersBeforeResponse, lang)}</td>
                      <td>{c.extensions}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableRegion>

            <h2 id="cso-title">{t.csos}</h2>
            <TableRegion label={t.csos}>
              <table class="data" aria-labelledby="cso-title">
                <thead>
                  <tr>
                    <th scope="col">{t.organisation}</th>
                    <th scope="col">{t.statementsSubmitted}</th>
                    <th scope="col">{t.colForwarded}</th>
                    <th scope="col">{t.colReturned}</th>
                    <th scope="col">{t.inReview}</th>
                    <th scope="col">{t.medianReview}</th>
                  </tr>
                </thead>
                <tbody>
                  {report.csos.map((c) => (
                    <tr key={c.csoId}>
                      <th scope="row">{c.name}</th>
                      <td>{c.submitted}</td>
                      <td>{c.forwarded}</td>
                      <td>{c.returned}</td>
                      <td>{c.inReview}</td>
                      <td>{hours(c.medianReviewSeconds)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableRegion>
          </>
        )}
      </Loading>
    </section>
  );
}

function Charts({ report }: { report: ProgressReport }) {
  const { t } = useSession();
  const rates = useMemo<ChartConfiguration<'bar'>>(
    () => ({
      type: 'bar',
      data: {
        labels: report.memberStates.map((s) => s.memberState),
        datasets: [{ label: t.responseRate, data: report.memberStates.map((s) => Math.round(s.responseRate * 1000) / 10), backgroundColor: '#1d5fa8' }],
      },
      options: { scales: { y: { min: 0, max: 100, title: { display: true, text: '%' } } }, plugins: { legend: { display: false } } },
    }),
    [report, t],
  );
  const statements = useMemo<ChartConfiguration<'bar'>>(
    () => ({
      type: 'bar',
      data: {
        labels: report.csos.map((c) => c.name),
        datasets: [
          { label: t.colForwarded, data: report.csos.map((c) => c.forwarded), backgroundColor: '#1d7a3a' },
          { label: t.colReturned, data: report.csos.map((c) => c.returned), backgroundColor: '#a8321d' },
          { label: t.inReview, data: report.csos.map((c) => c.inReview), backgroundColor: '#6b6b6b' },
        ],
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
    }),
    [report, t],
  );
  return (
    <div class="charts">
      <BarChart id="chart-rates" label={t.chartResponseRate} config={rates} />
      <BarChart id="chart-statements" label={t.chartStatements} config={statements} />
    </div>
  );
}
