import { describe, expect, it } from 'vitest';
import { deadlineText, endOfLocalDay, isTimeZone, toLocalIso, zonesFor, DEFAULT_MEMBER_STATE_ZONES } from './time-zones.js';

describe('time zones', () => {
  it('every default zone exists in the runtime zone data', () => {
    for (const [code, { timeZone }] of Object.entries(DEFAULT_MEMBER_STATE_ZONES)) expect(isTimeZone(timeZone), code).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });

  it('states a deadline in local time, Kazakhstan at UTC+6 in 2023 and UTC+5 since March 2024', () => {
    expect(deadlineText('2023-03-20T12:00:00Z', 'Asia/Almaty', 'KAZ')).toBe('20 March 2023, 18:00 Astana time');
    expect(toLocalIso('2030-03-20T12:00:00Z', 'Asia/Almaty')).toBe('2030-03-20T17:00:00+05:00');
    expect(toLocalIso('2023-03-20T12:00:00.250Z', 'America/St_Johns') /* NDT since 12 March */).toBe('2023-03-20T09:30:00.250-02:30');
  });

  it('a local date means the end of that day in the given zone', () => {
    expect(endOfLocalDay('2023-03-20', 'Asia/Almaty')).toBe('2023-03-20T23:59:59.999+06:00');
    expect(Date.parse(endOfLocalDay('2023-03-20', 'Asia/Almaty')!)).toBe(Date.parse('2023-03-20T17:59:59.999Z'));
    expect(endOfLocalDay('2030-12-01', 'Asia/Jakarta')).toBe('2030-12-01T23:59:59.999+07:00');
    expect(endOfLocalDay('2023-02-30', 'Asia/Almaty')).toBeNull();
  });

  it('configured zones override the defaults; unknown states fall back to UTC', () => {
    expect(zonesFor(['KAZ', 'RUS', 'USA'], { RUS: 'Asia/Vladivostok' })).toEqual({
      KAZ: 'Asia/Almaty',
      RUS: 'Asia/Vladivostok',
      USA: 'UTC',
    });
  });
});
