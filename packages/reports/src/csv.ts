import { csvNumber } from './format.js';
import type { ProgressReport } from './progress.js';

export const CSV_COLUMNS = [
  'scope',
  'id',
  'label',
  'addressed',
  'responded',
  'response_rate',
  'median_response_seconds',
  'on_time_share',
  'mean_reminders_before_response',
  'extensions',
  'statements_submitted',
  'forwarded',
  'returned',
  'in_review',
  'median_review_seconds',
] as const;

/** RFC 4180 quoting: a cell with a comma, quote or line break is quoted, quotes doubled. */
function cell(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * The report as one CSV table (RFC 4180, CRLF, UTF-8 with a byte-order mark so spreadsheets read Cyrillic):
 * one row per member state, consultation and CSO, the `scope` column saying which; cells that do not apply
 * to a scope are empty.
 */
export function reportToCsv(report: ProgressReport): string {
  const rows: (string | number)[][] = [[...CSV_COLUMNS]];
  const blank = (n: number): string[] => Array.from({ length: n }, () => '');
  for (const s of report.memberStates)
    rows.push([
      'member-state',
      s.memberState,
      s.memberState,
      s.consultations,
      s.responded,
      csvNumber(s.responseRate),
      csvNumber(s.medianResponseSeconds),
      csvNumber(s.onTimeShare),
      csvNumber(s.remindersBeforeResponse),
      s.extensions,
      ...blank(5),
    ]);
  for (const c of report.consultations)
    rows.push([
      'consultation',
      c.id,
      `${c.reference} ${c.title}`,
      c.addressees,
      c.responded,
      csvNumber(c.responseRate),
      csvNumber(c.medianResponseSeconds),
      csvNumber(c.onTimeShare),
      csvNumber(c.remindersBeforeResponse),
      c.extensions,
      ...blank(5),
    ]);
  for (const o of report.csos)
    rows.push(['cso', o.csoId, o.name, ...blank(7), o.submitted, o.forwarded, o.returned, o.inReview, csvNumber(o.medianReviewSeconds)]);
  return '\uFEFF' + rows.map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}
