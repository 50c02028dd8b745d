import { Type, type Static } from '@sinclair/typebox';
import { Codec } from './codec.js';
import { Rfc3339 } from './primitives.js';

/**
 * A record a consumer could not decode (not JSON, an unknown type, a version newer than it knows), set aside on
 * the quarantine topic so consumption goes on: where it came from, who gave up on it and why, and its bytes
 * (base64) so an operator can inspect or re-produce it once the consumer understands it.
 */
export const QuarantinedRecordV1 = Type.Object({
  type: Type.Literal('quarantine.record'),
  version: Type.Literal(1),
  topic: Type.String(),
  partition: Type.Integer({ minimum: 0 }),
  offset: Type.String({ pattern: '^[0-9]+$' }),
  /** The consumer group (or service) that could not use the record. */
  consumer: Type.String(),
  reason: Type.Array(Type.String()),
  quarantinedAt: Rfc3339,
  key: Type.Union([Type.String(), Type.Null()]),
  valueBase64: Type.Union([Type.String(), Type.Null()]),
});
export type QuarantinedRecord = Static<typeof QuarantinedRecordV1>;

export const quarantinedRecordCodec = new Codec('quarantined record', QuarantinedRecordV1);

/** The stable code of the outcome given to a command that could not be decoded. */
export const MALFORMED_COMMAND = 'malformed-command';
