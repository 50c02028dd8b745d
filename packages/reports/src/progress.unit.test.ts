import type { ConsultationEvent } from '@consult/contracts';
import { describe, expect, it } from 'vitest';
import { reportToCsv } from './csv.js';
import { duration, percent } from './format.js';
import { reportToPdf } from './pdf.js';
import { computeProgressReport, median, type StatementRecord } from './progress.js';

const ID = '11111111-1111-4111-8111-111111111111';
const T0 = Date.parse('2026-01-01T10:00:00.000Z');
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();

/** A consultation's history, built the way the writer numbers it. */
function history(id: string, steps: { type: string; minute: number; data: Record<string, unknown> }[]): ConsultationEvent[] {
  return steps.map((s, i) => ({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    type: s.type,
    version: 1,
    key: id,
    source: 'test',
    occurredAt: at(s.minute),
    sequence: i + 1,
    previousHash: null,
    hash: 'a'.repeat(64),
    data: s.data,
  })) as unknown as ConsultationEvent[];
}

const opened = (addressees: string[], deadlineMinute: number) => ({
  type: 'consultation.opened',
  minute: 0,
  data: {
    consultationId: ID,
    reference: 'IO/1',
    title: 'Rules',
    documents: [{ language: 'en', title: 'd' }],
    addressees,
    deadline: at(deadlineMinute),
    reminderOffsetsSeconds: [3600],
    commentVisibility: 'own',
    openedAt: at(0),
  },
});
const comment = (commentId: string, memberState: string, minute: number) => ({
  type: 'consultation.comment-submitted',
  minute,
  data: { commentId, trackingNumber: `IO/1/${memberState}/1`, memberState, body: 'b', language: 'en', bodyHash: 'a'.repeat(64), idempotencyKey: commentId, receivedAt: at(minute) },
});
const reminder = (minute: number, pending: string[]) => ({
  type: 'consultation.reminder-issued',
  minute,
  data: { offsetSeconds: 3600, deadline: at(120), dueAt: at(minute), pending },
});

const period = { from: '2026-01-01T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z' };

describe('computeProgressReport', () => {
  const consultation = history(ID, [
    opened(['KAZ', 'KHM', 'MNG', 'THA'], 120),
    comment('c-khm', 'KHM', 10),
    reminder(60, ['KAZ', 'MNG', 'THA']),
    comment('c-kaz', 'KAZ', 90),
    comment('c-mng', 'MNG', 100),
    { type: 'consultation.comment-withdrawn', minute: 110, data: { commentId: 'c-mng', memberState: 'MNG', receivedAt: at(110) } },
    { type: 'consultation.deadline-extended', minute: 115, data: { previousDeadline: at(120), deadline: at(240), reason: 'r', receivedAt: at(115) } },
    comment('c-mng2', 'MNG', 200),
    { type: 'consultation.closed', minute: 241, data: { closedAt: at(241), deadline: at(240), responded: ['KAZ', 'KHM', 'MNG'], pending: ['THA'] } },
  ]);

  it('gives each consultation its response rate, median response time, reminders and extensions', () => {
    const report = computeProgressReport({ period, consultations: [consultation], statements: [] });
    const [c] = report.consultations;
    expect(c).toMatchObject({
      id: ID,
      addressees: 4,
      responded: 3,
      responseRate: 0.75,
      status: 'closed',
      deadline: at(240),
      extensions: 1,
      remindersIssued: 1,
      pending: ['THA'],
      onTimeShare: 1,
    });
    // KHM 10 min, KAZ 90 min, MNG 200 min (its withdrawn comment does not stand): median 90 min.
    expect(c!.medianResponseSeconds).toBe(90 * 60);
    // KHM answered before the reminder, KAZ and MNG after it.
    expect(c!.remindersBeforeResponse).toBeCloseTo(2 / 3);
    expect(report.totals).toMatchObject({ consultations: 1, addressed: 4, responded: 3, responseRate: 0.75 });
  });

  it('gives each member state its figures over the consultations addressed to it', () => {
    const second = history('22222222-2222-4222-8222-222222222222', [opened(['KHM', 'THA'], 60), comment('x', 'KHM', 30)]);
    const report = computeProgressReport({ period, consultations: [consultation, second], statements: [] });
    const khm = report.memberStates.find((s) => s.memberState === 'KHM');
    expect(khm).toMatchObject({ consultations: 2, responded: 2, responseRate: 1, medianResponseSeconds: 20 * 60, remindersBeforeResponse: 0, extensions: 1 });
    const tha = report.memberStates.find((s) => s.memberState === 'THA');
    expect(tha).toMatchObject({ consultations: 2, responded: 0, responseRate: 0, medianResponseSeconds: null, onTimeShare: null });
    expect(report.memberStates.map((s) => s.memberState)).toEqual(['KAZ', 'KHM', 'MNG', 'THA']);
  });

  it('counts only what happened before the end of the period, so a past period never changes', () => {
    const cut = { from: period.from, to: at(95) };
    const report = computeProgressReport({ period: cut, consultations: [consultation], statements: [] });
    expect(report.consultations[0]).toMatchObject({ responded: 2, status: 'open', extensions: 0, deadline: at(120) });
    // The same answer whatever comes after `to`.
    const more = history(ID, [...consultation.map((e) => ({ type: e.type, minute: (Date.parse(e.occurredAt) - T0) / 60_000, data: e.data }))]);
    expect(computeProgressReport({ period: cut, consultations: [more], statements: [] })).toEqual(report);
  });

  it('leaves out consultations opened outside the period', () => {
    const report = computeProgressReport({ period: { from: at(1), to: at(1000) }, consultations: [consultation], statements: [] });
    expect(report.consultations).toEqual([]);
    expect(report.totals.responseRate).toBe(0);
  });

  it('marks a response received after the deadline in force as late', () => {
    const late = history(ID, [opened(['KHM', 'THA'], 30), comment('a', 'KHM', 20), comment('b', 'THA', 40)]);
    const report = computeProgressReport({ period, consultations: [late], statements: [] });
    expect(report.consultations[0]!.onTimeShare).toBe(0.5);
  });

  it("gives a silence consultation the closing's outcome, or its revision by an on-time break processed after it", async () => {
    const silence = history(ID, [
      { ...opened(['KHM', 'RUS'], 120), data: { ...opened(['KHM', 'RUS'], 120).data, procedure: 'silence' } },
      { type: 'consultation.closed', minute: 121, data: { closedAt: at(121), deadline: at(120), procedure: 'silence', responded: [], noComments: [], pending: ['KHM', 'RUS'], silence: { outcome: 'deemed-adopted', brokenBy: [] }, documentVersion: 1 } },
      { type: 'consultation.silence-broken', minute: 125, data: { memberState: 'RUS', reason: 'r', receivedAt: at(119), documentVersion: 1 } },
      {
        type: 'consultation.silence-outcome-revised',
        minute: 125,
        data: { previousOutcome: 'deemed-adopted', outcome: 'silence-broken', brokenBy: [{ memberState: 'RUS', reason: 'r', receivedAt: at(119) }], memberState: 'RUS', reason: 'r', receivedAt: at(119), cause: 'processed-after-closing', deadline: at(120), closedAt: at(121), documentVersion: 1 },
      },
    ]);
    const outcome = (to: string) => computeProgressReport({ period: { from: period.from, to }, consultations: [silence], statements: [] }).consultations[0]!.silenceOutcome;
    expect(outcome(at(121))).toBeNull();
    expect(outcome(at(122))).toBe('deemed-adopted');
    expect(outcome(at(126))).toBe('silence-broken');
    expect(computeProgressReport({ period, consultations: [consultation], statements: [] }).consultations[0]!.silenceOutcome).toBeNull();
    const pdf = await reportToPdf(computeProgressReport({ period, consultations: [silence], statements: [] }), 'kk');
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  });

  it('counts a nil return ("no comments") as a response, timed and judged on time by its receipt, as the matrix does', () => {
    const nil = (memberState: string, minute: number) => ({
      type: 'consultation.no-comments-submitted',
      minute,
      data: { memberState, receivedAt: at(minute), documentVersion: 1 },
    });
    const answered = history(ID, [
      opened(['KAZ', 'KHM', 'MNG', 'THA', 'UZB'], 60),
      nil('KHM', 20),
      reminder(30, ['KAZ', 'MNG', 'THA', 'UZB']),
      nil('KAZ', 40),
      // MNG answers "no comments", then comments after all: the comment replaces the nil return…
      nil('MNG', 45),
      comment('c-mng', 'MNG', 50),
      // … so once that comment is withdrawn MNG has answered nothing, as its matrix cell says (pending).
      { type: 'consultation.comment-withdrawn', minute: 55, data: { commentId: 'c-mng', memberState: 'MNG', receivedAt: at(55) } },
      // Received after the deadline in force: a response, but a late one.
      nil('THA', 70),
    ]);
    const report = computeProgressReport({ period, consultations: [answered], statements: [] });
    const [c] = report.consultations;
    expect(c).toMatchObject({ addressees: 5, responded: 3, responseRate: 0.6, pending: ['MNG', 'UZB'], medianResponseSeconds: 40 * 60 });
    // KHM and KAZ on time, THA late.
    expect(c!.onTimeShare).toBeCloseTo(2 / 3);
    // KHM answered before the reminder, KAZ and THA after it.
    expect(c!.remindersBeforeResponse).toBeCloseTo(2 / 3);
    expect(report.memberStates.find((s) => s.memberState === 'KHM')).toMatchObject({ responded: 1, responseRate: 1, medianResponseSeconds: 20 * 60, onTimeShare: 1 });
    expect(report.memberStates.find((s) => s.memberState === 'THA')).toMatchObject({ responded: 1, onTimeShare: 0, remindersBeforeResponse: 1 });
    expect(report.memberStates.find((s) => s.memberState === 'MNG')).toMatchObject({ responded: 0, medianResponseSeconds: null });
    expect(report.totals).toMatchObject({ addressed: 5, responded: 3 });
  });

  it('counts a silence break as a response while it stands; a revision that resets the silence voids it', () => {
    const broken = (memberState: string, minute: number, documentVersion = 1) => ({
      type: 'consultation.silence-broken',
      minute,
      data: { memberState, reason: 'objects to rule 4', receivedAt: at(minute), documentVersion },
    });
    const silence = { ...opened(['KAZ', 'KHM', 'THA'], 120), data: { ...opened(['KAZ', 'KHM', 'THA'], 120).data, procedure: 'silence' } };
    const revision = {
      type: 'consultation.document-version-issued',
      minute: 40,
      data: {
        version: 2,
        kind: 'revision',
        number: 1,
        symbol: 'IO/1/Rev.1',
        documents: [{ language: 'en', title: 'd' }],
        issuedAt: at(40),
        resetsDeadline: false,
        resetsSilence: true,
        deadline: at(120),
      },
    };
    const procedure = history(ID, [silence, broken('KHM', 10), broken('THA', 20), revision, broken('KHM', 50, 2), comment('c-kaz', 'KAZ', 60)]);
    const [c] = computeProgressReport({ period, consultations: [procedure], statements: [] }).consultations;
    // KHM spoke again on the revised text (50 min); THA's break was on the text the revision replaced; KAZ commented.
    expect(c).toMatchObject({ responded: 2, pending: ['THA'], onTimeShare: 1, medianResponseSeconds: 55 * 60 });
    // Before the revision both breaks stood.
    const [before] = computeProgressReport({ period: { from: period.from, to: at(30) }, consultations: [procedure], statements: [] }).consultations;
    expect(before).toMatchObject({ responded: 2, pending: ['KAZ'], medianResponseSeconds: 15 * 60 });
  });

  it('gives each CSO its statements submitted, forwarded, returned and the median time in review', () => {
    const statements: StatementRecord[] = [
      { statementId: 's1', csoId: 'cso-a', receivedAt: at(0), history: [{ status: 'submitted', at: at(0) }, { status: 'under-review', at: at(5) }, { status: 'forwarded', at: at(10) }] },
      { statementId: 's2', csoId: 'cso-a', receivedAt: at(0), history: [{ status: 'submitted', at: at(0) }, { status: 'returned', at: at(30) }] },
      { statementId: 's3', csoId: 'cso-a', receivedAt: at(1), history: [{ status: 'submitted', at: at(1) }] },
      { statementId: 's4', csoId: 'cso-b', receivedAt: at(2), history: [{ status: 'submitted', at: at(2) }, { status: 'forwarded', at: at(99_999) }] },
    ];
    const report = computeProgressReport({ period, consultations: [], statements, csoNames: { 'cso-a': 'Alpha' } });
    expect(report.csos).toEqual([
      { csoId: 'cso-a', name: 'Alpha', submitted: 3, forwarded: 1, returned: 1, inReview: 1, medianReviewSeconds: 20 * 60 },
      // forwarded after the period ended: still in review as far as this period knows
      { csoId: 'cso-b', name: 'cso-b', submitted: 1, forwarded: 0, returned: 0, inReview: 1, medianReviewSeconds: null },
    ]);
    expect(report.totals).toMatchObject({ statements: 4, forwarded: 1, returned: 1 });
  });
});

describe('median', () => {
  it('is the middle value, or the mean of the two middle ones', () => {
    expect(median([])).toBeNull();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe('formats', () => {
  it('writes shares as percentages and durations for people', () => {
    expect(percent(2 / 3)).toBe('66.7%');
    expect(percent(null)).toBe('—');
    expect(duration(45)).toBe('45 s');
    expect(duration(750)).toBe('12.5 min');
    expect(duration(3 * 3600)).toBe('3.0 h');
    expect(duration(5 * 86_400)).toBe('5.0 d');
  });
});

describe('reportToCsv and reportToPdf', () => {
  const report = computeProgressReport({
    period,
    consultations: [history(ID, [opened(['KAZ', 'KHM'], 120), comment('c', 'KHM', 10)])],
    statements: [{ statementId: 's', csoId: 'cso-a', receivedAt: at(0), history: [{ status: 'submitted', at: at(0) }] }],
    csoNames: { 'cso-a': 'Қазақстан, "Alpha"' },
  });

  it('writes one RFC 4180 table with a row per member state, consultation and CSO', () => {
    const csv = reportToCsv(report);
    expect(csv.startsWith('\uFEFFscope,id,label,')).toBe(true);
    const lines = csv.slice(1).trimEnd().split('\r\n');
    expect(lines).toHaveLength(1 + 2 + 1 + 1);
    expect(lines).toContain('member-state,KHM,KHM,1,1,1,600,1,0,0,,,,,');
    expect(lines).toContain(`consultation,${ID},IO/1 Rules,2,1,0.5,600,1,0,0,,,,,`);
    expect(lines).toContain('cso,cso-a,"Қазақстан, ""Alpha""",,,,,,,,1,0,0,1,');
  });

  it('renders a PDF in each language', async () => {
    for (const language of ['en', 'ru', 'kk'] as const) {
      const pdf = await reportToPdf(report, language);
      expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      expect(pdf.length).toBeGreaterThan(2_000);
    }
  });
});
