import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { startupRefusal } from './lifecycle.js';

class Refusal extends Error {
  readonly code = 'TOPIC_MISMATCH';
  readonly retriable = false;
}

describe('startupRefusal', () => {
  it('turns a non-retriable coded error into one plain stderr line naming the process', () => {
    const error = new Refusal('refusing topic cms.consultation.events: retention.ms is 604800000, wanted -1 (…)');
    expect(startupRefusal(error, 'consultation')).toBe(
      'consultation: refusing to start (TOPIC_MISMATCH): refusing topic cms.consultation.events: retention.ms is 604800000, wanted -1 (…)\n',
    );
  });

  it('says nothing for errors that do not say an operator must act (the fatal log carries those)', () => {
    expect(startupRefusal(new Error('ECONNREFUSED'), 'gateway')).toBeUndefined();
    expect(startupRefusal(Object.assign(new Error('later'), { code: 'X', retriable: true }), 'gateway')).toBeUndefined();
    expect(startupRefusal('a string', 'gateway')).toBeUndefined();
  });

  it('finds the process name where createLogger binds it', () => {
    const logger = createLogger('projector', { level: 'silent', pretty: false });
    expect(logger.bindings()).toMatchObject({ service: 'projector' });
  });
});
