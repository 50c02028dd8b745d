import { Type, type Static } from '@sinclair/typebox';
import { NotifiableEventTypeSchema, Rfc3339, Uuid, WebhookUrl } from '@consult/contracts';

/** HTTP shapes of subscriptions and deliveries (not the event shapes: see contracts/notifications.ts). */

export const CreateSubscriptionBody = Type.Object(
  {
    url: WebhookUrl,
    events: Type.Array(NotifiableEventTypeSchema, { minItems: 1, maxItems: 20, uniqueItems: true }),
    secret: Type.Optional(Type.String({ minLength: 16, maxLength: 256, description: 'Deprecated: leave it out and the server makes one (whsec_…), shown once in the answer' })),
  },
  { additionalProperties: false },
);

export const RotateSecretBody = Type.Object(
  {
    overlapSeconds: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 7 * 86_400, description: 'How long the previous secret keeps signing too (default 86400)' }),
    ),
  },
  { additionalProperties: false },
);

export const SecretRotated = Type.Object({
  id: Uuid,
  secret: Type.String({ description: 'The new secret (whsec_…), shown this once' }),
  rotatedAt: Rfc3339,
  previousSecretExpiresAt: Rfc3339,
});
export type CreateSubscriptionBody = Static<typeof CreateSubscriptionBody>;

export const SubscriptionResponse = Type.Object({
  id: Uuid,
  url: Type.String(),
  events: Type.Array(Type.String()),
  createdAt: Rfc3339,
  secret: Type.Optional(Type.String({ description: 'Only in the 201 of a subscription whose secret the server made (whsec_…): store it now' })),
});

export const SubscriptionList = Type.Object({ items: Type.Array(SubscriptionResponse) });

export const SubscriptionParams = Type.Object({ id: Uuid });
export const DeliveryParams = Type.Object({ id: Uuid, deliveryId: Uuid });

export const DeliveryStatus = Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead-lettered')]);

export const ListDeliveriesQuery = Type.Object(
  {
    status: Type.Optional(DeliveryStatus),
    limit: Type.Optional(Type.String({ pattern: '^(?:[1-9]\\d?|1\\d\\d|200)$', description: '1 to 200, default 50' })),
  },
  { additionalProperties: false },
);

export const DeliveryAttempt = Type.Object({
  round: Type.Integer({ description: '1, then one more per redelivery request' }),
  attempt: Type.Integer(),
  at: Rfc3339,
  durationMs: Type.Integer(),
  statusCode: Type.Optional(Type.Integer()),
  error: Type.Optional(Type.String()),
  outcome: Type.Union([Type.Literal('succeeded'), Type.Literal('failed')]),
});

export const DeliveryResponse = Type.Object({
  deliveryId: Uuid,
  subscriptionId: Uuid,
  eventId: Uuid,
  eventType: Type.String(),
  consultationId: Type.String({ description: 'The key of the event stream: the consultation id, or for cso.* events the organisation id' }),
  statementId: Type.Optional(Uuid),
  requestedAt: Rfc3339,
  status: DeliveryStatus,
  attempts: Type.Array(DeliveryAttempt),
});

export const DeliveryList = Type.Object({ items: Type.Array(DeliveryResponse) });

export const RedeliveryAccepted = Type.Object({
  deliveryId: Uuid,
  requestId: Uuid,
  status: Type.Literal('redelivery-requested'),
});

export const EventsHeaders = Type.Object({
  'last-event-id': Type.Optional(Type.String({ maxLength: 200, description: 'Resume after this event id' })),
});
