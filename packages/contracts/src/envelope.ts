import { Type, type Static, type TObject, type TProperties, type TLiteral } from '@sinclair/typebox';
import { Actor, Rfc3339, Sha256Hex, Uuid } from './primitives.js';

/**
 * Every event travels in an envelope that follows CloudEvents' required fields (id, source, type, time as
 * `occurredAt`) plus the version of its data shape, the partition key, correlation/causation ids and the actor.
 * Unknown fields are ignored by consumers (schemas are open), so adding an optional field keeps the version.
 */
export const envelopeProperties = {
  id: Uuid,
  source: Type.String({ minLength: 1 }),
  occurredAt: Rfc3339,
  key: Type.String({ minLength: 1 }),
  correlationId: Type.String({ minLength: 1 }),
  causationId: Type.Union([Type.String({ minLength: 1 }), Type.Null()]),
  actor: Actor,
};

/** History streams (consultations, statements) are chained: a gap, reordering or alteration is detectable. */
export const chainProperties = {
  sequence: Type.Integer({ minimum: 1 }),
  previousHash: Type.Union([Sha256Hex, Type.Null()]),
  hash: Sha256Hex,
};

export function eventSchema<T extends string, V extends number, D extends TProperties>(
  type: T,
  version: V,
  data: TObject<D>,
): TObject<typeof envelopeProperties & { type: TLiteral<T>; version: TLiteral<V>; data: TObject<D> }> {
  return Type.Object({ ...envelopeProperties, type: Type.Literal(type), version: Type.Literal(version), data });
}

export function chainedEventSchema<T extends string, V extends number, D extends TProperties>(
  type: T,
  version: V,
  data: TObject<D>,
): TObject<
  typeof envelopeProperties &
    typeof chainProperties & { type: TLiteral<T>; version: TLiteral<V>; data: TObject<D> }
> {
  return Type.Object({
    ...envelopeProperties,
    ...chainProperties,
    type: Type.Literal(type),
    version: Type.Literal(version),
    data,
  });
}

/** Commands carry the time the gateway received them: decisions use it, never the processing time. */
export const commandProperties = {
  id: Uuid,
  key: Type.String({ minLength: 1 }),
  receivedAt: Rfc3339,
  correlationId: Type.String({ minLength: 1 }),
  actor: Actor,
  /** Which gateway instance waits for the outcome (informational; outcomes are keyed by stream). */
  replyTo: Type.Optional(Type.String()),
};

export function commandSchema<T extends string, V extends number, D extends TProperties>(
  type: T,
  version: V,
  data: TObject<D>,
): TObject<typeof commandProperties & { type: TLiteral<T>; version: TLiteral<V>; data: TObject<D> }> {
  return Type.Object({ ...commandProperties, type: Type.Literal(type), version: Type.Literal(version), data });
}

export type EnvelopeMeta = Static<TObject<typeof envelopeProperties>>;
export type ChainMeta = Static<TObject<typeof chainProperties>>;
