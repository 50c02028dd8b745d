import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import PDFDocument from 'pdfkit';
import { duration, percent } from './format.js';
import { REPORT_LABELS, type ReportLanguage } from './labels.js';
import type { ProgressReport } from './progress.js';

// DejaVu Sans covers Latin and the whole Cyrillic block (Russian and Kazakh letters); PDF's standard fonts do not.
const fontDir = join(dirname(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const REGULAR = join(fontDir, 'DejaVuSans.ttf');
const BOLD = join(fontDir, 'DejaVuSans-Bold.ttf');

const PAGE_MARGIN = 48;
const COLOURS = { bar: '#1d5fa8', forwarded: '#1d7a3a', returned: '#a8321d', review: '#8a8a8a', text: '#111111', rule: '#bbbbbb' };

interface Column {
  header: string;
  width: number;
  align?: 'left' | 'right';
}

/**
 * The report as a PDF (A4), rendered on the server with pdfkit: totals, a bar chart of response rates by member
 * state and one of statement outcomes by organisation (drawn with pdfkit's vector API, so they print sharply),
 * and the tables behind them. Text stays text, so the figures can be searched and copied.
 */
export async function reportToPdf(report: ProgressReport, language: ReportLanguage = 'en'): Promise<Buffer> {
  const t = REPORT_LABELS[language];
  const doc = new PDFDocument({
    size: 'A4',
    margin: PAGE_MARGIN,
    info: { Title: `${t.title} ${report.period.from} – ${report.period.to}`, Creator: 'Consultation messaging' },
  });
  doc.registerFont('regular', REGULAR);
  doc.registerFont('bold', BOLD);
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const finished = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const left = PAGE_MARGIN;
  const width = doc.page.width - 2 * PAGE_MARGIN;
  const heading = (text: string, size = 13): void => {
    ensureSpace(size * 3);
    doc.moveDown(0.6).font('bold').fontSize(size).fillColor(COLOURS.text).text(text, left, doc.y, { width });
    doc.moveDown(0.3);
  };
  const ensureSpace = (height: number): void => {
    if (doc.y + height > doc.page.height - PAGE_MARGIN) doc.addPage();
  };

  doc.font('bold').fontSize(18).fillColor(COLOURS.text).text(t.title, { width });
  doc.font('regular').fontSize(10).text(`${t.period}: ${report.period.from} – ${report.period.to}`, { width });
  doc.fontSize(8).fillColor('#444444').text(t.generated, { width });

  heading(t.totals);
  const totals = report.totals;
  doc.font('regular').fontSize(10).fillColor(COLOURS.text);
  doc.text(`${t.consultations}: ${totals.consultations}`, { width });
  doc.text(`${t.responded}: ${totals.responded}/${totals.addressed} (${percent(totals.responseRate)})`, { width });
  doc.text(`${t.submitted}: ${totals.statements}; ${t.forwarded}: ${totals.forwarded}; ${t.returned}: ${totals.returned}`, { width });

  // Chart: response rate by member state, one horizontal bar each.
  heading(t.responseRateChart);
  if (report.memberStates.length === 0) doc.font('regular').fontSize(10).text(t.none);
  const labelWidth = 60;
  const barMax = width - labelWidth - 60;
  for (const s of report.memberStates) {
    ensureSpace(16);
    const y = doc.y;
    doc.font('regular').fontSize(9).fillColor(COLOURS.text).text(s.memberState, left, y + 2, { width: labelWidth });
    doc.rect(left + labelWidth, y, barMax, 11).strokeColor(COLOURS.rule).lineWidth(0.5).stroke();
    if (s.responseRate > 0) doc.rect(left + labelWidth, y, barMax * s.responseRate, 11).fillColor(COLOURS.bar).fill();
    doc.fillColor(COLOURS.text).text(percent(s.responseRate), left + labelWidth + barMax + 6, y + 2, { width: 54 });
    doc.y = y + 16;
  }

  // Chart: statement outcomes by organisation, stacked bars scaled to the largest total.
  if (report.csos.length > 0) {
    heading(t.statementsChart);
    const most = Math.max(...report.csos.map((c) => c.submitted), 1);
    const csoLabel = 150;
    const csoBar = width - csoLabel - 40;
    for (const c of report.csos) {
      ensureSpace(16);
      const y = doc.y;
      doc.font('regular').fontSize(9).fillColor(COLOURS.text).text(c.name, left, y + 2, { width: csoLabel - 6, height: 12, ellipsis: true });
      let x = left + csoLabel;
      for (const [count, colour] of [
        [c.forwarded, COLOURS.forwarded],
        [c.returned, COLOURS.returned],
        [c.inReview, COLOURS.review],
      ] as const) {
        const w = (csoBar * count) / most;
        if (w > 0) doc.rect(x, y, w, 11).fillColor(colour).fill();
        x += w;
      }
      doc.fillColor(COLOURS.text).text(`${c.forwarded}/${c.returned}/${c.inReview}`, x + 6, y + 2, { width: 60 });
      doc.y = y + 16;
    }
  }

  const table = (title: string, columns: Column[], rows: string[][]): void => {
    heading(title);
    if (rows.length === 0) {
      doc.font('regular').fontSize(10).text(t.none, left, doc.y, { width });
      return;
    }
    const scale = width / columns.reduce((n, c) => n + c.width, 0);
    const row = (cells: string[], font: 'regular' | 'bold'): void => {
      // Headers a size smaller, so long words (Russian, Kazakh) fit their columns unbroken.
      doc.font(font).fontSize(font === 'bold' ? 6.5 : 8);
      const height = Math.max(...cells.map((text, i) => doc.heightOfString(text, { width: columns[i]!.width * scale - 4 }))) + 4;
      ensureSpace(height);
      const y = doc.y;
      let x = left;
      cells.forEach((text, i) => {
        const column = columns[i]!;
        doc.fillColor(COLOURS.text).text(text, x, y + 2, { width: column.width * scale - 4, align: column.align ?? 'left' });
        x += column.width * scale;
      });
      doc.moveTo(left, y + height).lineTo(left + width, y + height).strokeColor(COLOURS.rule).lineWidth(0.5).stroke();
      doc.y = y + height;
    };
    row(columns.map((c) => c.header), 'bold');
    for (const r of rows) row(r, 'regular');
  };

  const num = (header: string, w = 1): Column => ({ header, width: w, align: 'right' });
  table(
    t.memberStates,
    [{ header: t.memberState, width: 1 }, num(t.addressed), num(t.responded), num(t.responseRate), num(t.medianResponse), num(t.onTime), num(t.reminders), num(t.extensions)],
    report.memberStates.map((s) => [
      s.memberState,
      String(s.consultations),
      String(s.responded),
      percent(s.responseRate),
      duration(s.medianResponseSeconds),
      percent(s.onTimeShare),
      s.remindersBeforeResponse === null ? '—' : s.remindersBeforeResponse.toFixed(1),
      String(s.extensions),
    ]),
  );
  table(
    t.consultations,
    [{ header: t.consultation, width: 2.6 }, num(t.addressed), num(t.responded), num(t.responseRate), num(t.medianResponse), num(t.onTime), num(t.reminders), num(t.extensions)],
    report.consultations.map((c) => [
      `${c.reference} ${c.title}${c.silenceOutcome ? ` (${c.silenceOutcome === 'deemed-adopted' ? t.deemedAdopted : t.silenceBroken})` : ''}`,
      String(c.addressees),
      String(c.responded),
      percent(c.responseRate),
      duration(c.medianResponseSeconds),
      percent(c.onTimeShare),
      c.remindersBeforeResponse === null ? '—' : c.remindersBeforeResponse.toFixed(1),
      String(c.extensions),
    ]),
  );
  table(
    t.csos,
    [{ header: t.cso, width: 2.4 }, num(t.submitted), num(t.forwarded), num(t.returned), num(t.inReview), num(t.medianReview, 1.2)],
    report.csos.map((c) => [c.name, String(c.submitted), String(c.forwarded), String(c.returned), String(c.inReview), duration(c.medianReviewSeconds)]),
  );

  doc.end();
  return finished;
}
