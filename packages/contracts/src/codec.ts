import { FormatRegistry, type TSchema, type Static } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ConsultationCommand, ConsultationEvent } from './consultation.js';
import { IdentityEvent } from './identity.js';
import { CommandOutcomeV1 } from './outcome.js';
import { CsoCommand, CsoEvent } from './statements.js';

// TypeBox fails unknown formats closed; register the few the contracts use.
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
if (!FormatRegistry.Has('uuid')) FormatRegistry.Set('uuid', (v) => UUID_RE.test(v));
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => !Number.isNaN(Date.parse(v)));
if (!FormatRegistry.Has('uri'))
  FormatRegistry.Set('uri', (v) => {
    try {
      new URL(v);
      return true;
    } catch {
      return false;
    }
  });

/** A message that does not match its contract. Never retriable: the same bytes fail the same way. */
export class ContractViolation extends Error {
  readonly code = 'CONTRACT_VIOLATION';
  readonly retriable = false;
  constructor(
    readonly contract: string,
    readonly problems: readonly string[],
  ) {
    super(`${contract} violates its contract: ${problems.slice(0, 5).join('; ')}`);
    this.name = 'ContractViolation';
  }
}

/**
 * Upcasters turn an old version of an event into the next one; decode applies them in a chain so consumers
 * only ever see the newest shape. Register as `upcasters['consultation.opened@1'] = (e) => ({...e, version: 2})`.
 */
export type Upcaster = (event: Record<string, unknown>) => Record<string, unknown>;
export const upcasters: Record<string, Upcaster> = {};

/**
 * `consultation.closed` 1 → 2: version 1 predates nil returns, the silence procedure and document versions, so
 * its consultation followed the comment procedure, nobody answered "no comments" and version 1 was in force.
 */
upcasters['consultation.closed@1'] = (event) => {
  const data = (event.data ?? {}) as Record<string, unknown>;
  return { ...event, version: 2, data: { ...data, procedure: 'comments', noComments: [], documentVersion: 1 } };
};

function upcast(value: Record<string, unknown>): Record<string, unknown> {
  let current = value;
  for (let guard = 0; guard < 100; guard++) {
    const next = upcasters[`${String(current.type)}@${String(current.version)}`];
    if (!next) return current;
    current = next(current);
  }
  throw new ContractViolation(String(value.type), ['upcaster chain does not terminate']);
}

export class Codec<S extends TSchema> {
  private readonly check: TypeCheck<S>;
  constructor(
    readonly name: string,
    schema: S,
  ) {
    this.check = TypeCompiler.Compile(schema);
  }

  validate(value: unknown): asserts value is Static<S> {
    if (!this.check.Check(value)) {
      const problems = [...this.check.Errors(value)].slice(0, 10).map((e) => `${e.path || '/'} ${e.message}`);
      throw new ContractViolation(this.name, problems);
    }
  }

  is(value: unknown): value is Static<S> {
    return this.check.Check(value);
  }

  /** Validates before serialising: nothing malformed is ever produced. */
  encode(value: Static<S>): string {
    this.validate(value);
    return JSON.stringify(value);
  }

  /** Parses, upcasts to the newest version and validates: nothing malformed is ever consumed. */
  decode(raw: Buffer | string | null): Static<S> {
    if (raw === null) throw new ContractViolation(this.name, ['empty message']);
    let parsed: unknown;
    try {
      parsed = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
    } catch {
      throw new ContractViolation(this.name, ['not JSON']);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new ContractViolation(this.name, ['not an object']);
    const value = upcast(parsed as Record<string, unknown>);
    this.validate(value);
    return value;
  }
}

export const consultationEventCodec = new Codec('consultation event', ConsultationEvent);
export const consultationCommandCodec = new Codec('consultation command', ConsultationCommand);
export const commandOutcomeCodec = new Codec('command outcome', CommandOutcomeV1);
export const identityEventCodec = new Codec('identity event', IdentityEvent);
export const csoEventCodec = new Codec('cso event', CsoEvent);
export const csoCommandCodec = new Codec('cso command', CsoCommand);
