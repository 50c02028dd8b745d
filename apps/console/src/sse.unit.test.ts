import { describe, expect, it } from 'vitest';
import { formatRemaining, remaining } from './countdown.js';
import { SseParser } from './sse.js';

describe('SseParser', () => {
  it('assembles messages across chunks, keeps the last id and skips keep-alive comments', () => {
    const parser = new SseParser();
    expect(parser.push('retry: 2000\n: connected at 0.0\n\nid: 1.0\nevent: consultation.opened\nda')).toEqual([]);
    expect(parser.retryMs).toBe(2000);
    const messages = parser.push('ta: {"a":1}\n\n: keep-alive\n\nid: 2.0\r\nevent: x\r\ndata: a\r\ndata: b\r\n\r\n');
    expect(messages).toEqual([
      { id: '1.0', event: 'consultation.opened', data: '{"a":1}' },
      { id: '2.0', event: 'x', data: 'a\nb' },
    ]);
    expect(parser.lastEventId).toBe('2.0');
  });

  it('waits when a chunk ends between \\r and \\n', () => {
    const parser = new SseParser();
    expect(parser.push('data: x\r')).toEqual([]);
    expect(parser.push('\n\r\n')).toEqual([{ id: undefined, event: 'message', data: 'x' }]);
  });
});

describe('countdown', () => {
  it('splits the time left and stops at zero once the deadline is reached', () => {
    const r = remaining(90_061_000, 0);
    expect(r).toEqual({ past: false, days: 1, hours: 1, minutes: 1, seconds: 1 });
    expect(formatRemaining(r, 'd')).toBe('1 d 01:01:01');
    expect(formatRemaining(remaining(5_500, 0), 'd')).toBe('00:00:06');
    expect(remaining(1_000, 1_000)).toEqual({ past: true, days: 0, hours: 0, minutes: 0, seconds: 0 });
  });
});
