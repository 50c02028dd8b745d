import { HttpProblem } from './problems.js';

/**
 * The one rule for text, enforced at the edge so that what is stored is exactly what was sent, or the request
 * is a 400 and nothing is stored:
 *
 * - a body is UTF-8 (`charset`, if given, says so); malformed bytes are `invalid-encoding`, never replaced;
 * - every string (values and field names, in bodies, query strings and path parameters) is Unicode scalar
 *   values without control characters: no lone surrogates, no C0 controls except tab, line feed and carriage
 *   return, no DEL, no C1 controls; anything else is `invalid-text`;
 * - text is never normalised, trimmed or rewritten;
 * - lengths count UTF-16 code units (JavaScript's `length`; an emoji outside the BMP counts two), as the
 *   event contracts do, so what passes the HTTP schema passes them too;
 * - a date-time is RFC 3339 with an offset, a real calendar date and no leap second (JavaScript dates and
 *   every event consumer have none); a URI is absolute, printable ASCII and parses as a WHATWG URL (so a
 *   port above 65535 is refused).
 */

// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string breaks the rule, or null. */
export function textViolation(text: string): string | null {
  const match = FORBIDDEN.exec(text);
  if (!match) return null;
  const unit = match[0].charCodeAt(0);
  const hex = `U+${unit.toString(16).toUpperCase().padStart(4, '0')}`;
  if (unit >= 0xd800 && unit <= 0xdfff) return `holds a lone surrogate (${hex}) at position ${match.index}`;
  return `holds the control character ${hex} at position ${match.index}`;
}

export interface TextError {
  path: string;
  message: string;
}

/**
 * Walks a parsed JSON value (iteratively: nesting depth cannot overflow the stack) and reports the first
 * string, value or field name, that breaks the rule.
 */
export function findTextViolation(value: unknown, root: string): TextError | null {
  const pending: [unknown, string][] = [[value, root]];
  while (pending.length > 0) {
    const [current, path] = pending.pop()!;
    if (typeof current === 'string') {
      const why = textViolation(current);
      if (why) return { path, message: why };
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) pending.push([current[i], `${path}/${i}`]);
    } else if (current !== null && typeof current === 'object') {
      for (const [name, child] of Object.entries(current as Record<string, unknown>)) {
        const why = textViolation(name);
        if (why) return { path: `${path}/${JSON.stringify(name).slice(1, -1)}`, message: `field name ${why}` };
        pending.push([child, `${path}/${name}`]);
      }
    }
  }
  return null;
}

/** Throws the `invalid-text` problem for the first offending string of a request part. */
export function assertText(value: unknown, root: string): void {
  const error = findTextViolation(value, root);
  if (error) throw new HttpProblem('invalid-text', `${error.path}: ${error.message}`, { errors: [error] });
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes a body as strict UTF-8: malformed sequences (overlong, surrogates, truncated) are a 400. */
export function decodeUtf8(bytes: Buffer): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new HttpProblem('invalid-encoding', 'the body is not valid UTF-8');
  }
}

/** A `charset` parameter other than UTF-8 is refused rather than misread. */
export function assertUtf8Charset(contentType: string | undefined): void {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1];
  if (charset && !/^utf-?8$/i.test(charset))
    throw new HttpProblem('invalid-encoding', `charset ${charset.slice(0, 40)} is not accepted: send UTF-8`);
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:Z|[+-](\d{2}):(\d{2}))$/;

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** RFC 3339 date-time with an offset, on a real calendar date, without leap seconds. */
export function isDateTime(value: string): boolean {
  const m = DATE_TIME.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = [1, 2, 3, 4, 5, 6, 8, 9].map((i) =>
    Number(m[i] ?? 0),
  ) as [number, number, number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return false;
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return false;
  return Number.isFinite(Date.parse(value));
}

/** An absolute URI in printable ASCII that a WHATWG URL parser (Node's, the notifier's) accepts as it is. */
export function isUri(value: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7E]+$/.test(value)) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/** The messages the API gives for the rule's schema keywords (the defaults say "characters"). */
export function schemaMessage(keyword: string, params: Record<string, unknown>, fallback: string): string {
  switch (keyword) {
    case 'maxLength':
      return `must be at most ${String(params.limit)} UTF-16 code units long (a character outside the BMP, such as an emoji, counts two)`;
    case 'minLength':
      return `must be at least ${String(params.limit)} UTF-16 code units long`;
    case 'format':
      if (params.format === 'date-time')
        return 'must be an RFC 3339 date-time with an offset on a real date, without a leap second (e.g. 2030-12-01T17:00:00+07:00)';
      if (params.format === 'uri') return 'must be an absolute URI in printable ASCII that parses as a URL (port at most 65535)';
      return fallback;
    default:
      return fallback;
  }
}
