import type { FastifyReply } from 'fastify';
import { describe, expect, it } from 'vitest';
import { HttpProblem, sendProblem } from './problems.js';

/** Records what a reply was given (sendProblem only sets status, headers, type and body). */
function recordingReply() {
  const headers = new Map<string, string>();
  const reply = {
    code: () => reply,
    type: () => reply,
    send: () => reply,
    hasHeader: (name: string) => headers.has(name),
    header: (name: string, value: string) => {
      headers.set(name, value);
      return reply;
    },
  };
  return { reply: reply as unknown as FastifyReply, headers };
}

describe('problem answers', () => {
  it('say when to retry: a 503 by default, a 429 with its own time, not a 400', () => {
    const unavailable = recordingReply();
    sendProblem(unavailable.reply, new HttpProblem('service-unavailable'));
    expect(unavailable.headers.get('retry-after')).toBe('1');
    const limited = recordingReply();
    sendProblem(limited.reply, new HttpProblem('rate-limited', 'slow down', {}, 17));
    expect(limited.headers.get('retry-after')).toBe('17');
    const invalid = recordingReply();
    sendProblem(invalid.reply, new HttpProblem('validation-failed'));
    expect(invalid.headers.has('retry-after')).toBe(false);
  });
});
