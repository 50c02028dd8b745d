/** One row of the fault table: what happened to the requests and effects around one fault. */
export interface FaultRow {
  fault: string;
  posted: number;
  acknowledged: number;
  foundOnce: number;
  /** 4xx answers to valid requests other than a closing that really came first. */
  refusedWrongly: number;
  /** No definite answer within the request's budget (or a command left without an outcome). */
  undecided: number;
  duplicates: number;
  lost: number;
  /** Comment commands received by the deadline and refused as closed. */
  onTimeRefused: number;
  issuedTwice: number;
  /** Reminders or closings due and never issued. */
  missed: number;
  webhooksMissing: number;
  /** Keys differing between the live read models and a fresh rebuild; -1 when the rebuild failed. */
  rebuildDiffs: number;
  /** Service processes that exited without being killed by the suite. */
  diedByThemselves: number;
  /** Seconds from the fault to the first 201 of a request sent after it; null if none came. */
  recoverySeconds: number | null;
  /** Whether the recovery time is guarded (≤ 10 s for the death of a single process). */
  recoveryGuarded: boolean;
  notes: string[];
}

export const GUARDED: readonly (keyof FaultRow)[] = [
  'refusedWrongly',
  'undecided',
  'duplicates',
  'lost',
  'onTimeRefused',
  'issuedTwice',
  'missed',
  'webhooksMissing',
  'rebuildDiffs',
  'diedByThemselves',
];

export const RECOVERY_LIMIT_SECONDS = 10;

const HEADERS: [keyof FaultRow, string][] = [
  ['fault', 'fault'],
  ['posted', 'posted'],
  ['acknowledged', 'acknowledged'],
  ['foundOnce', 'found once'],
  ['refusedWrongly', 'refused wrongly'],
  ['undecided', 'undecided'],
  ['duplicates', 'duplicates'],
  ['lost', 'lost'],
  ['onTimeRefused', 'on-time refused'],
  ['issuedTwice', 'issued twice'],
  ['missed', 'reminders/closings missed'],
  ['webhooksMissing', 'webhooks missing'],
  ['rebuildDiffs', 'rebuild diffs'],
  ['diedByThemselves', 'died by themselves'],
  ['recoverySeconds', 'first 201 after (s)'],
];

function cell(row: FaultRow, key: keyof FaultRow): string {
  const value = row[key];
  if (key === 'rebuildDiffs' && value === -1) return 'error';
  if (key === 'recoverySeconds') return value === null ? 'none' : (value as number).toFixed(1);
  const text = String(value);
  return GUARDED.includes(key) && value !== 0 ? `**${text}**` : text;
}

export function markdownTable(rows: readonly FaultRow[]): string {
  const lines = [`| ${HEADERS.map(([, h]) => h).join(' | ')} |`, `|${HEADERS.map(([k]) => (k === 'fault' ? '---' : '---:')).join('|')}|`];
  for (const row of rows) lines.push(`| ${HEADERS.map(([k]) => cell(row, k)).join(' | ')} |`);
  return lines.join('\n');
}
