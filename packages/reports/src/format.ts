/** How figures are written in the CSV and the PDF: one definition, so a reader (or a test) can recompute them. */

/** A share 0..1 as a percentage with one decimal, e.g. 0.6667 → "66.7%"; null → "—". */
export function percent(share: number | null): string {
  return share === null ? '—' : `${(Math.round(share * 1000) / 10).toFixed(1)}%`;
}

/** A CSV number: up to four decimals, no trailing zeros; null → empty cell. */
export function csvNumber(value: number | null): string {
  if (value === null) return '';
  return String(Math.round(value * 10_000) / 10_000);
}

/** A duration in seconds for people: "45 s", "12.5 min", "3.2 h", "4.1 d"; null → "—". */
export function duration(seconds: number | null): string {
  if (seconds === null) return '—';
  const one = (n: number): string => (Math.round(n * 10) / 10).toFixed(1);
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7_200) return `${one(seconds / 60)} min`;
  if (seconds < 172_800) return `${one(seconds / 3_600)} h`;
  return `${one(seconds / 86_400)} d`;
}
