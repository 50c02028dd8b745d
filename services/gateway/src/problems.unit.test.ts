import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { errorHandler, HttpProblem, sendProblem } from './problems.js';

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

  it('log a 503 (the system saying "not now") as a warning, and any other 5xx as an error', () => {
    const logged: [string, string][] = [];
    const log = { warn: (_: unknown, msg: string) => logged.push(['warn', msg]), error: (_: unknown, msg: string) => logged.push(['error', msg]) };
    const request = { log, url: '/v1/consultations' } as unknown as FastifyRequest;
    const answer = (error: Error) => errorHandler.call(undefined, error as FastifyError, request, recordingReply().reply);
    answer(new HttpProblem('service-unavailable', 'the API key directory is being rebuilt from Kafka; retry shortly'));
    answer(new Error('a defect'));
    answer(new HttpProblem('validation-failed'));
    expect(logged).toEqual([
      ['warn', 'request refused: service unavailable'],
      ['error', 'request failed'],
    ]);
  });
});
