import { parseArgs } from 'node:util';
import { isMemberStateCode } from '@consult/contracts';
import type { KeyRequest } from './keys.js';

export const USAGE = `usage:
  npm run admin -- keys create --kind <secretariat|member-state|cso|standing-committee|auditor> --id <id> [--name <name>] [--expires-at <RFC 3339>]
  npm run admin -- keys revoke --key-id <id> [--reason <text>]
  npm run admin -- keys rotate --key-id <id> [--overlap-hours <0-720, default 24>]
  npm run admin -- keys seed-dev      issue the well-known development keys (refused when NODE_ENV=production)`;

const KINDS = ['secretariat', 'member-state', 'cso', 'standing-committee', 'auditor'] as const;

export type AdminCommand =
  | { verb: 'create'; request: KeyRequest }
  | { verb: 'revoke'; keyId: string; reason: string }
  | { verb: 'rotate'; keyId: string; overlapSeconds: number }
  | { verb: 'seed-dev' };

/** Reads the command line; a refusal names what is wrong. Pure, so every refusal is unit-tested. */
export function parseAdminCommand(args: string[], nodeEnv: string, now = new Date()): { command: AdminCommand } | { error: string } {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        kind: { type: 'string' },
        id: { type: 'string' },
        name: { type: 'string' },
        'key-id': { type: 'string' },
        'expires-at': { type: 'string' },
        'overlap-hours': { type: 'string' },
        // Accepted only to refuse it clearly: a secret on a command line ends up in shell history and `ps`.
        secret: { type: 'string' },
        reason: { type: 'string' },
      },
    });
  } catch (error) {
    return { error: (error as Error).message };
  }
  const { positionals, values } = parsed;
  const [noun, verb] = positionals;
  if (noun !== 'keys' || !verb) return { error: 'unknown command' };
  if (values.secret !== undefined) return { error: 'never pass a secret on the command line: keys are named by --key-id' };
  switch (verb) {
    case 'seed-dev':
      if (nodeEnv === 'production') return { error: 'keys seed-dev is refused in production (NODE_ENV=production): the development keys are public' };
      return { command: { verb } };
    case 'create': {
      const kind = values.kind as (typeof KINDS)[number] | undefined;
      if (!kind || !KINDS.includes(kind)) return { error: `--kind must be one of ${KINDS.join(', ')}` };
      if (!values.id) return { error: '--id is required' };
      if (kind === 'member-state' && !isMemberStateCode(values.id)) return { error: `${values.id} is not an ISO 3166-1 alpha-3 code` };
      let expiresAt: string | undefined;
      if (values['expires-at'] !== undefined) {
        const t = Date.parse(values['expires-at']);
        if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(values['expires-at']) || Number.isNaN(t))
          return { error: '--expires-at must be an RFC 3339 date-time' };
        if (t <= now.getTime()) return { error: '--expires-at must be in the future' };
        expiresAt = new Date(t).toISOString();
      }
      return { command: { verb, request: { kind, id: values.id, ...(values.name ? { name: values.name } : {}), ...(expiresAt ? { expiresAt } : {}) } } };
    }
    case 'revoke':
      if (!values['key-id']) return { error: '--key-id is required' };
      return { command: { verb, keyId: values['key-id'], reason: values.reason ?? 'revoked by an administrator' } };
    case 'rotate': {
      if (!values['key-id']) return { error: '--key-id is required' };
      const hours = values['overlap-hours'] === undefined ? 24 : Number(values['overlap-hours']);
      if (!Number.isInteger(hours) || hours < 0 || hours > 720) return { error: '--overlap-hours must be a whole number from 0 to 720' };
      return { command: { verb, keyId: values['key-id'], overlapSeconds: hours * 3600 } };
    }
    default:
      return { error: 'unknown command' };
  }
}
