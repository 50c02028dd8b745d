import type { ConsultationDocument } from '@consult/contracts';

/**
 * Languages of a document version: each version exists in one or more languages, exactly one of them the
 * original (the text negotiated; the others are translations). Absent any mark, the first document is the
 * original, as it was before the mark existed.
 */
export function originalOf<D extends ConsultationDocument>(documents: readonly D[]): D | undefined {
  return documents.find((d) => d.original === true) ?? documents[0];
}

/** The documents with exactly one marked original (the one marked, else the first). */
export function withOriginalMarked(documents: readonly ConsultationDocument[]): ConsultationDocument[] {
  const original = originalOf(documents);
  return documents.map((d) => ({ ...d, original: d === original }));
}

/** Why a set of documents is not a valid version: duplicate languages or more than one original. */
export function documentsProblem(documents: readonly ConsultationDocument[]): string | null {
  const originals = documents.filter((d) => d.original === true).length;
  if (originals > 1) return `exactly one document may be marked original; ${originals} are`;
  const languages = documents.map((d) => d.language.toLowerCase());
  const duplicate = languages.find((l, i) => languages.indexOf(l) !== i);
  if (duplicate) return `two documents in language ${duplicate}`;
  return null;
}

interface Range {
  tag: string;
  q: number;
  order: number;
}

/** Parses an Accept-Language header into ranges, best first (RFC 9110 §12.5.4); q=0 ranges are dropped. */
export function parseAcceptLanguage(header: string | undefined): string[] {
  if (!header) return [];
  const ranges: Range[] = [];
  header.split(',').forEach((item, order) => {
    const [rawTag, ...params] = item.trim().split(';');
    const tag = rawTag?.trim().toLowerCase();
    if (!tag || !/^(\*|[a-z]{1,8}(-[a-z0-9]{1,8})*)$/.test(tag)) return;
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([01](\.\d{0,3})?)\s*$/i.exec(p);
      if (m) q = Number(m[1]);
    }
    if (q > 0) ranges.push({ tag, q, order });
  });
  return ranges.sort((a, b) => b.q - a.q || a.order - b.order).map((r) => r.tag);
}

/**
 * The language to answer in, among those a version exists in: the first range of `Accept-Language` that one
 * of them matches (exactly, or as a prefix: `zh` matches `zh-Hans`, `pt-BR` falls back to `pt`), else the
 * original's. `*` means the original.
 */
export function negotiateLanguage(header: string | undefined, available: readonly string[], original: string): string {
  const lower = available.map((l) => l.toLowerCase());
  for (const range of parseAcceptLanguage(header)) {
    if (range === '*') return original;
    const exact = lower.indexOf(range);
    if (exact >= 0) return available[exact]!;
    const longer = lower.findIndex((l) => l.startsWith(`${range}-`));
    if (longer >= 0) return available[longer]!;
    const primary = range.split('-')[0]!;
    const shorter = lower.indexOf(primary);
    if (shorter >= 0) return available[shorter]!;
  }
  return original;
}
