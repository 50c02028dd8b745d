import { describe, expect, it } from 'vitest';
import { documentsProblem, negotiateLanguage, parseAcceptLanguage, withOriginalMarked } from './languages.js';

describe('languages and the original', () => {
  it('reads Accept-Language by quality, then order; q=0 and junk are dropped', () => {
    expect(parseAcceptLanguage('en;q=0.5, ru, kk;q=0.8, de;q=0, <script>')).toEqual(['ru', 'kk', 'en']);
    expect(parseAcceptLanguage(undefined)).toEqual([]);
  });

  it('matches exactly, by a longer tag, or by the primary subtag; otherwise the original', () => {
    const available = ['en', 'ru', 'zh-Hans'];
    expect(negotiateLanguage('RU', available, 'en')).toBe('ru');
    expect(negotiateLanguage('zh', available, 'en')).toBe('zh-Hans');
    expect(negotiateLanguage('ru-KZ', available, 'en')).toBe('ru');
    expect(negotiateLanguage('de, fr', available, 'en')).toBe('en');
    expect(negotiateLanguage('*', available, 'ru')).toBe('ru');
  });

  it('exactly one original: the one marked, else the first; two marked or a language twice is refused', () => {
    expect(withOriginalMarked([{ language: 'en', title: 'a' }, { language: 'ru', title: 'b' }]).map((d) => d.original)).toEqual([true, false]);
    expect(withOriginalMarked([{ language: 'en', title: 'a' }, { language: 'ru', title: 'b', original: true }]).map((d) => d.original)).toEqual([false, true]);
    expect(documentsProblem([{ language: 'en', title: 'a', original: true }, { language: 'ru', title: 'b', original: true }])).toMatch(/exactly one/);
    expect(documentsProblem([{ language: 'en', title: 'a' }, { language: 'EN', title: 'b' }])).toMatch(/two documents/);
    expect(documentsProblem([{ language: 'en', title: 'a' }])).toBeNull();
  });
});
