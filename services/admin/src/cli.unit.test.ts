import { describe, expect, it } from 'vitest';
import { parseAdminCommand } from './cli.js';

const now = new Date('2030-01-01T00:00:00Z');
const parse = (line: string, env = 'development') => parseAdminCommand(line.split(' '), env, now);

describe('admin command line', () => {
  it('revokes by key id alone and never takes a secret', () => {
    expect(parse('keys revoke --key-id 3f2a9c01')).toEqual({ command: { verb: 'revoke', keyId: '3f2a9c01', reason: 'revoked by an administrator' } });
    expect(parse('keys revoke --key-id 3f2a9c01 --secret cmk_abc')).toEqual({ error: expect.stringMatching(/never pass a secret/) });
    expect(parse('keys revoke')).toEqual({ error: '--key-id is required' });
  });

  it('refuses the development keys in production', () => {
    expect(parse('keys seed-dev')).toEqual({ command: { verb: 'seed-dev' } });
    expect(parse('keys seed-dev', 'production')).toEqual({ error: expect.stringMatching(/refused in production/) });
  });

  it('issues keys that expire, and rotates with an overlap', () => {
    expect(parse('keys create --kind member-state --id KHM --expires-at 2030-06-01T00:00:00+07:00')).toEqual({
      command: { verb: 'create', request: { kind: 'member-state', id: 'KHM', expiresAt: '2030-05-31T17:00:00.000Z' } },
    });
    expect(parse('keys create --kind member-state --id KHM --expires-at 2029-06-01T00:00:00Z')).toEqual({ error: '--expires-at must be in the future' });
    expect(parse('keys create --kind member-state --id KHM --expires-at tomorrow')).toEqual({ error: '--expires-at must be an RFC 3339 date-time' });
    expect(parse('keys create --kind member-state --id XXX')).toEqual({ error: 'XXX is not an ISO 3166-1 alpha-3 code' });
    expect(parse('keys rotate --key-id k1')).toEqual({ command: { verb: 'rotate', keyId: 'k1', overlapSeconds: 86_400 } });
    expect(parse('keys rotate --key-id k1 --overlap-hours 0')).toEqual({ command: { verb: 'rotate', keyId: 'k1', overlapSeconds: 0 } });
    expect(parse('keys rotate --key-id k1 --overlap-hours 1000')).toEqual({ error: expect.stringMatching(/overlap-hours/) });
    expect(parse('keys frobnicate')).toEqual({ error: 'unknown command' });
  });
});
