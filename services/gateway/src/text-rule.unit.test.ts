import { describe, expect, it } from 'vitest';
import { decodeUtf8, findTextViolation, isDateTime, isUri, textViolation } from './text-rule.js';

describe('the text rule', () => {
  it('accepts text with tabs, new lines, emoji and any script, and refuses lone surrogates and controls', () => {
    for (const ok of ['', 'Tab\tLF\nCR\r', '😀👨‍👩‍👧🇰🇭', 'e\u0301', '\ufffd', '\u2028', 'مرحبا', '\u00a0'])
      expect(textViolation(ok), JSON.stringify(ok)).toBeNull();
    for (const bad of ['\u0000', 'a\u0001', '\u000b', '\u001f', '\u007f', '\u0080', '\u009f', '\ud800', 'x\udc00', '\ud83d'])
      expect(textViolation(bad), JSON.stringify(bad)).not.toBeNull();
    expect(textViolation('ab\ud800')).toBe('holds a lone surrogate (U+D800) at position 2');
  });

  it('finds the first bad string anywhere, field names included, without recursion limits', () => {
    expect(findTextViolation({ a: ['ok', { b: 'x\u0000' }] }, 'body')).toEqual({ path: 'body/a/1/b', message: expect.stringMatching(/U\+0000/) });
    expect(findTextViolation({ 'k\u0007': 1 }, 'body')?.message).toMatch(/^field name/);
    let deep: unknown = 'fine';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(findTextViolation(deep, 'body')).toBeNull();
  });

  it('decodes strict UTF-8 only', () => {
    expect(decodeUtf8(Buffer.from('héllo 😀'))).toBe('héllo 😀');
    for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf4, 0x90, 0x80, 0x80]])
      expect(() => decodeUtf8(Buffer.from(bad))).toThrow(/UTF-8/);
  });

  it('accepts RFC 3339 date-times on real dates without leap seconds', () => {
    for (const ok of ['2030-12-01T17:00:00+07:00', '2032-02-29T00:00:00Z', '2030-01-01T00:00:00.123456789Z']) expect(isDateTime(ok), ok).toBe(true);
    for (const bad of ['2031-06-30T23:59:60Z', '2031-02-29T00:00:00Z', '2031-02-30T00:00:00Z', '2031-13-01T00:00:00Z', '2031-01-01T24:00:00Z', '2031-01-01T00:00:00+24:00', '2031-01-01T00:00:00', '2031-01-01 00:00:00Z'])
      expect(isDateTime(bad), bad).toBe(false);
  });

  it('accepts absolute ASCII URIs a URL parser takes as they are', () => {
    for (const ok of ['https://example.org/a?b=c#d', 'http://127.0.0.1:8080/hook', 'https://example.org:65535/']) expect(isUri(ok), ok).toBe(true);
    for (const bad of ['http://example.org:99999/', 'https://exa mple.org/', 'https://example.org/ü', '/relative', 'http://[::1', ''])
      expect(isUri(bad), bad).toBe(false);
  });
});
