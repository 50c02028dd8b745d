import type { LocalDeadline } from '@consult/contracts';

/**
 * Member states' time zones. Deadlines are instants; people read them in their own zone. The defaults cover
 * the member states of ASEAN and CICA (IANA zone of the capital, and the capital's name for "… time");
 * deployments override or extend them (gateway `MEMBER_STATE_TIME_ZONES`). Zones are recorded on the
 * consultation when it is circulated, so reminders, views and replays agree whatever the configuration later.
 */
export const DEFAULT_MEMBER_STATE_ZONES: Readonly<Record<string, { timeZone: string; city: string }>> = {
  // ASEAN
  BRN: { timeZone: 'Asia/Brunei', city: 'Bandar Seri Begawan' },
  KHM: { timeZone: 'Asia/Phnom_Penh', city: 'Phnom Penh' },
  IDN: { timeZone: 'Asia/Jakarta', city: 'Jakarta' },
  LAO: { timeZone: 'Asia/Vientiane', city: 'Vientiane' },
  MYS: { timeZone: 'Asia/Kuala_Lumpur', city: 'Kuala Lumpur' },
  MMR: { timeZone: 'Asia/Yangon', city: 'Nay Pyi Taw' },
  PHL: { timeZone: 'Asia/Manila', city: 'Manila' },
  SGP: { timeZone: 'Asia/Singapore', city: 'Singapore' },
  THA: { timeZone: 'Asia/Bangkok', city: 'Bangkok' },
  VNM: { timeZone: 'Asia/Ho_Chi_Minh', city: 'Hanoi' },
  TLS: { timeZone: 'Asia/Dili', city: 'Dili' },
  // CICA (those not already above)
  AFG: { timeZone: 'Asia/Kabul', city: 'Kabul' },
  AZE: { timeZone: 'Asia/Baku', city: 'Baku' },
  BHR: { timeZone: 'Asia/Bahrain', city: 'Manama' },
  BGD: { timeZone: 'Asia/Dhaka', city: 'Dhaka' },
  CHN: { timeZone: 'Asia/Shanghai', city: 'Beijing' },
  EGY: { timeZone: 'Africa/Cairo', city: 'Cairo' },
  IND: { timeZone: 'Asia/Kolkata', city: 'New Delhi' },
  IRN: { timeZone: 'Asia/Tehran', city: 'Tehran' },
  IRQ: { timeZone: 'Asia/Baghdad', city: 'Baghdad' },
  ISR: { timeZone: 'Asia/Jerusalem', city: 'Jerusalem' },
  JOR: { timeZone: 'Asia/Amman', city: 'Amman' },
  KAZ: { timeZone: 'Asia/Almaty', city: 'Astana' },
  KGZ: { timeZone: 'Asia/Bishkek', city: 'Bishkek' },
  KWT: { timeZone: 'Asia/Kuwait', city: 'Kuwait City' },
  MNG: { timeZone: 'Asia/Ulaanbaatar', city: 'Ulaanbaatar' },
  PAK: { timeZone: 'Asia/Karachi', city: 'Islamabad' },
  PSE: { timeZone: 'Asia/Hebron', city: 'Ramallah' },
  QAT: { timeZone: 'Asia/Qatar', city: 'Doha' },
  KOR: { timeZone: 'Asia/Seoul', city: 'Seoul' },
  RUS: { timeZone: 'Europe/Moscow', city: 'Moscow' },
  LKA: { timeZone: 'Asia/Colombo', city: 'Colombo' },
  TJK: { timeZone: 'Asia/Dushanbe', city: 'Dushanbe' },
  TKM: { timeZone: 'Asia/Ashgabat', city: 'Ashgabat' },
  TUR: { timeZone: 'Europe/Istanbul', city: 'Ankara' },
  ARE: { timeZone: 'Asia/Dubai', city: 'Abu Dhabi' },
  UZB: { timeZone: 'Asia/Tashkent', city: 'Tashkent' },
};

/** The CICA Secretariat sits in Astana: a local-date deadline ("2023-03-20") ends that day there by default. */
export const DEFAULT_SECRETARIAT_TIME_ZONE = 'Asia/Almaty';
/** Cities the Secretariat's default zone is named after in sentences. */
const SECRETARIAT_CITIES: Readonly<Record<string, string>> = { 'Asia/Almaty': 'Astana', 'Asia/Jakarta': 'Jakarta' };

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Each addressee's zone: the configured table first, then the defaults, else UTC. */
export function zonesFor(addressees: readonly string[], configured: Readonly<Record<string, string>> = {}): Record<string, string> {
  const zones: Record<string, string> = {};
  for (const code of addressees) zones[code] = configured[code] ?? DEFAULT_MEMBER_STATE_ZONES[code]?.timeZone ?? 'UTC';
  return zones;
}

/** "Astana" for KAZ in its default zone; otherwise the zone's own city ("Asia/Ho_Chi_Minh" → "Ho Chi Minh"). */
export function cityOf(timeZone: string, memberState?: string): string {
  const known = memberState ? DEFAULT_MEMBER_STATE_ZONES[memberState] : undefined;
  if (known?.timeZone === timeZone) return known.city;
  if (!memberState && SECRETARIAT_CITIES[timeZone]) return SECRETARIAT_CITIES[timeZone];
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return 'UTC';
  return (timeZone.split('/').pop() ?? timeZone).replace(/_/g, ' ');
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const partsFormatters = new Map<string, Intl.DateTimeFormat>();
function localParts(instantMs: number, timeZone: string): LocalParts {
  let f = partsFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    partsFormatters.set(timeZone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(instantMs))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return { year: p.year!, month: p.month!, day: p.day!, hour: p.hour!, minute: p.minute!, second: p.second! };
}

/** The zone's offset from UTC at an instant, in minutes (Asia/Almaty in 2023: +360). */
export function offsetMinutes(instantMs: number, timeZone: string): number {
  const p = localParts(instantMs, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return Math.round((asUtc - Math.floor(instantMs / 1000) * 1000) / 60_000);
}

const pad = (n: number, width = 2): string => String(Math.abs(n)).padStart(width, '0');
const formatOffset = (minutes: number): string =>
  `${minutes < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(minutes) / 60))}:${pad(Math.abs(minutes) % 60)}`;

/** RFC 3339 local date-time with the zone's offset at that instant: 2023-03-20T18:00:00+06:00. */
export function toLocalIso(instant: string, timeZone: string): string {
  const ms = Date.parse(instant);
  const p = localParts(ms, timeZone);
  const millis = ms % 1000 === 0 ? '' : `.${pad(((ms % 1000) + 1000) % 1000, 3)}`;
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${millis}${formatOffset(offsetMinutes(ms, timeZone))}`;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "20 March 2023, 18:00 Astana time": how a note verbale states a deadline. */
export function deadlineText(instant: string, timeZone: string, memberState?: string): string {
  const p = localParts(Date.parse(instant), timeZone);
  return `${p.day} ${MONTHS[p.month - 1]} ${p.year}, ${pad(p.hour)}:${pad(p.minute)} ${cityOf(timeZone, memberState)} time`;
}

export function localDeadline(instant: string, timeZone: string, memberState?: string): LocalDeadline {
  return { timeZone, local: toLocalIso(instant, timeZone), text: deadlineText(instant, timeZone, memberState) };
}

/** A deadline's wall clock per zone: views are read far more often than deadlines change. Bounded. */
const wallClocks = new Map<string, { local: string; wall: string }>();

/** Each addressee's deadline in its own zone; the zone arithmetic is done once per deadline and zone. */
export function localDeadlinesOf(
  deadline: string,
  memberStates: readonly string[],
  zones: Readonly<Record<string, string>>,
): Record<string, LocalDeadline> {
  const out: Record<string, LocalDeadline> = {};
  const ms = Date.parse(deadline);
  for (const code of memberStates) {
    const timeZone = zones[code] ?? 'UTC';
    const key = `${ms} ${timeZone}`;
    let zone = wallClocks.get(key);
    if (!zone) {
      const p = localParts(ms, timeZone);
      zone = { local: toLocalIso(deadline, timeZone), wall: `${p.day} ${MONTHS[p.month - 1]} ${p.year}, ${pad(p.hour)}:${pad(p.minute)}` };
      if (wallClocks.size >= 10_000) wallClocks.clear();
      wallClocks.set(key, zone);
    }
    out[code] = { timeZone, local: zone.local, text: `${zone.wall} ${cityOf(timeZone, code)} time` };
  }
  return out;
}

export const LOCAL_DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * "By 20 March 2023" means the end of that day where the Secretariat sits: the last millisecond of the local
 * date in `timeZone`, as RFC 3339 with that zone's offset (2023-03-20T23:59:59.999+06:00). Null if not a date.
 */
export function endOfLocalDay(date: string, timeZone: string): string | null {
  const m = LOCAL_DATE_RE.exec(date);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const wall = Date.UTC(y, mo - 1, d, 23, 59, 59, 999);
  const check = new Date(wall);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return null;
  // The offset at the local wall time: guess with the offset at the wall time read as UTC, then correct once.
  let instant = wall - offsetMinutes(wall, timeZone) * 60_000;
  instant = wall - offsetMinutes(instant, timeZone) * 60_000;
  return toLocalIso(new Date(instant).toISOString(), timeZone);
}
