import { describe, expect, it } from 'vitest';
import { isTimeZone } from '@consult/domain';
import { parseTimeZoneTable } from './config.js';

describe('MEMBER_STATE_TIME_ZONES', () => {
  it('reads CODE=Area/City pairs over the default table', () => {
    expect(parseTimeZoneTable('RUS=Asia/Vladivostok, IDN=Asia/Makassar', isTimeZone)).toEqual({
      RUS: 'Asia/Vladivostok',
      IDN: 'Asia/Makassar',
    });
    expect(parseTimeZoneTable('', isTimeZone)).toEqual({});
  });

  it('refuses unknown zones and malformed codes, so start-up fails with a clear line', () => {
    expect(() => parseTimeZoneTable('RUS=Mars/Olympus', isTimeZone)).toThrow(/RUS=Mars\/Olympus/);
    expect(() => parseTimeZoneTable('rus=Europe/Moscow', isTimeZone)).toThrow(/invalid/);
    expect(() => parseTimeZoneTable('RUS', isTimeZone)).toThrow(/invalid/);
  });
});
