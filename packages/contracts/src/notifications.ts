import { Type, type Static } from '@sinclair/typebox';
import { Codec, upcasters } from './codec.js';
import type { ConsultationEvent, ConsultationEventType } from './consultation.js';
import type { CsoEvent, CsoEventType } from './statements.js';
import { eventSchema } from './envelope.js';
import { Actor, MemberStateCode, Rfc3339, Uuid } from './primitives.js';
import { topicSpecs, type TopicNames, type TopicSpec } from './topics.js';

/**
 * Notifications to member-state systems: subscriptions (webhooks) are events on `subscription.events` (key =
 * subscription id, kept forever), and every delivery step is an event on `notification.deliveries` (key =
 * subscription id), so both the subscription list and the delivery history are rebuilt from Kafka.
 */

/** The consultation events a subscription may ask for. */
export const CONSULTATION_NOTIFIABLE_EVENT_TYPES = [
  'consultation.opened',
  'consultation.reminder-issued',
  'consultation.closed',
  'consultation.deadline-extended',
  'consultation.comment-submitted',
  'consultation.comment-amended',
  'consultation.comment-withdrawn',
  'consultation.no-comments-submitted',
  'consultation.silence-broken',
  'consultation.document-version-issued',
  'consultation.silence-outcome-revised',
] as const satisfies readonly ConsultationEventType[];

/** The statement events a subscription may ask for (from `cso.events`; accreditation events are not notified). */
export const STATEMENT_NOTIFIABLE_EVENT_TYPES = [
  'cso.statement-submitted',
  'cso.statement-review-started',
  'cso.statement-forwarded',
  'cso.statement-returned',
  'cso.statement-acknowledged',
  /** A co-signer confirmed; with nothing left `awaiting`, the statement enters the review queue. */
  'cso.statement-co-signed',
  /** A co-signer declined: the statement goes no further. */
  'cso.statement-co-signing-declined',
] as const satisfies readonly CsoEventType[];

/** Every event type a subscription may ask for: consultation events, then statement events. */
export const NOTIFIABLE_EVENT_TYPES = [...CONSULTATION_NOTIFIABLE_EVENT_TYPES, ...STATEMENT_NOTIFIABLE_EVENT_TYPES] as const;
export type NotifiableEventType = (typeof NOTIFIABLE_EVENT_TYPES)[number];

export const NotifiableEventTypeSchema = Type.Union(NOTIFIABLE_EVENT_TYPES.map((t) => Type.Literal(t)));
/** http or https only: a subscriber's endpoint is never a file, data or javascript URL. */
export const WebhookUrl = Type.String({ format: 'uri', maxLength: 2048, pattern: '^https?://[^\\s/?#]+' });
export const WebhookSecret = Type.String({ minLength: 16, maxLength: 256 });
export const SubscriptionId = Uuid;

// ---- subscription.events (key = subscription id) ----

export const SubscriptionCreatedV1 = eventSchema(
  'subscription.created',
  1,
  Type.Object({
    subscriptionId: SubscriptionId,
    /** The principal that subscribed; deliveries are filtered by what it may see. */
    owner: Actor,
    url: WebhookUrl,
    events: Type.Array(NotifiableEventTypeSchema, { minItems: 1, uniqueItems: true }),
    /**
     * The HMAC key. It must survive a Redis flush, so it lives in this topic: restrict the topic with ACLs to
     * the gateway and the notifier. It is never returned by the API.
     */
    secret: WebhookSecret,
    createdAt: Rfc3339,
  }),
);

export const SubscriptionDeletedV1 = eventSchema(
  'subscription.deleted',
  1,
  Type.Object({ subscriptionId: SubscriptionId, owner: Actor, deletedAt: Rfc3339 }),
);

/**
 * A webhook secret encrypted at rest (AES-256-GCM, docs/webhooks.md): sealed with a per-subscription data key
 * whose only copy is the record `keyRef` of the compacted `subscription.keys` topic, itself sealed with the
 * operator's key (`WEBHOOK_SECRETS_KEY`). Deleting the subscription tombstones that record: once compacted
 * away, nothing can open the sealed secret that `subscription.events` keeps forever (crypto-shredding).
 */
export const SealedSecret = Type.Object({
  keyRef: Type.String({ minLength: 1, maxLength: 128 }),
  iv: Type.String({ pattern: '^[A-Za-z0-9_-]{16}$' }),
  ciphertext: Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 1024 }),
  tag: Type.String({ pattern: '^[A-Za-z0-9_-]{22}$' }),
});
export type SealedSecret = Static<typeof SealedSecret>;

/**
 * v2: the secret is sealed (`sealedSecret`). Version 1 events, which carry it in clear, are upcast to v2 with
 * `secret` kept as written: consumers handle one shape, and old records are never rewritten.
 */
export const SubscriptionCreatedV2 = eventSchema(
  'subscription.created',
  2,
  Type.Object({
    subscriptionId: SubscriptionId,
    owner: Actor,
    url: WebhookUrl,
    events: Type.Array(NotifiableEventTypeSchema, { minItems: 1, uniqueItems: true }),
    /** Only in events written as v1, before secrets were sealed. */
    secret: Type.Optional(WebhookSecret),
    sealedSecret: Type.Optional(SealedSecret),
    /** The API key that created it: when that key is revoked or expires, deliveries stop. */
    createdByKeyId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    createdAt: Rfc3339,
  }),
);
upcasters['subscription.created@1'] = (event) => ({ ...event, version: 2 });

/**
 * The owner rotated the secret: deliveries are signed with the new one, and also with the previous one until
 * `previousSecretExpiresAt`, so receivers can switch without losing a delivery.
 */
export const SubscriptionSecretRotatedV1 = eventSchema(
  'subscription.secret-rotated',
  1,
  Type.Object({
    subscriptionId: SubscriptionId,
    owner: Actor,
    sealedSecret: SealedSecret,
    rotatedAt: Rfc3339,
    previousSecretExpiresAt: Rfc3339,
  }),
);

export const SubscriptionEvent = Type.Union([SubscriptionCreatedV1, SubscriptionCreatedV2, SubscriptionSecretRotatedV1, SubscriptionDeletedV1]);
export type SubscriptionEvent = Static<typeof SubscriptionEvent>;
export type SubscriptionCreated = Static<typeof SubscriptionCreatedV2>;

/**
 * A data key of `subscription.keys` (compacted, key = `keyRef`): 32 random bytes sealed with the operator's
 * key. A null value (tombstone) destroys it.
 */
export const SubscriptionDataKeyV1 = Type.Object({
  keyRef: Type.String({ minLength: 1, maxLength: 128 }),
  subscriptionId: SubscriptionId,
  wrappedKey: Type.Object({ iv: Type.String(), ciphertext: Type.String(), tag: Type.String() }),
  createdAt: Rfc3339,
});
export type SubscriptionDataKey = Static<typeof SubscriptionDataKeyV1>;
export const subscriptionDataKeyCodec = new Codec('subscription data key', SubscriptionDataKeyV1);

// ---- notification.deliveries (key = subscription id) ----

const DeliveryRef = {
  /** Deterministic: `deterministicUuid(`${eventId}:${subscriptionId}`)`, so a re-routed event keeps its id. */
  deliveryId: Uuid,
  subscriptionId: SubscriptionId,
};

/** The router decided that this subscription gets this event; written atomically with the router's offsets. */
export const DeliveryRequestedV1 = eventSchema(
  'delivery.requested',
  1,
  Type.Object({
    ...DeliveryRef,
    eventId: Uuid,
    eventType: NotifiableEventTypeSchema,
    /** The key of the event's stream: the consultation id, or for `cso.*` events the CSO id. */
    consultationId: Type.String({ minLength: 1 }),
    /** For statement events: the statement (its CSO is `consultationId`, the stream key). */
    statementId: Type.Optional(Uuid),
    /** When the consultation event happened (or, for reminders, was due): the start of the delivery delay. */
    eventOccurredAt: Rfc3339,
    /** The consultation event itself: the `event` of the notification body. */
    event: Type.Unknown(),
    requestedAt: Rfc3339,
  }),
);

/**
 * v2: a large event (or one fanned out to many subscriptions) is not copied into every request: `eventRef`
 * names it (consultation id and sequence) and the worker reads it from the consultation's history, so one
 * comment subscribed a thousand times cannot make the router write gigabyte transactions. v1 requests (event
 * always embedded) upcast as they are.
 */
export const DeliveryRequestedV2 = eventSchema(
  'delivery.requested',
  2,
  Type.Object({
    ...DeliveryRef,
    eventId: Uuid,
    eventType: NotifiableEventTypeSchema,
    consultationId: Type.String({ minLength: 1 }),
    /** For a statement event: the statement (the event's key, and `consultationId`, is the organisation). */
    statementId: Type.Optional(Uuid),
    eventOccurredAt: Rfc3339,
    /** The consultation event itself, when small enough to embed (statement events always are). */
    event: Type.Optional(Type.Unknown()),
    /** Otherwise where to read it: the event of this sequence in the consultation's history. */
    eventRef: Type.Optional(Type.Object({ consultationId: Type.String({ minLength: 1 }), sequence: Type.Integer({ minimum: 1 }) })),
    requestedAt: Rfc3339,
  }),
);
upcasters['delivery.requested@1'] = (event) => ({ ...event, version: 2 });

/** Where a referenced consultation event is: this sequence of the consultation's history (as in v2). */
export const ConsultationEventRef = Type.Object({ consultationId: Type.String({ minLength: 1 }), sequence: Type.Integer({ minimum: 1 }) });
/** Where a referenced statement event is: this sequence of its organisation's stream (`cso.events`, key = CSO id). */
export const CsoEventRef = Type.Object({ csoId: Type.String({ minLength: 1 }), sequence: Type.Integer({ minimum: 1 }) });
export type EventRef = Static<typeof ConsultationEventRef> | Static<typeof CsoEventRef>;

/**
 * v3: statement events may be referenced too (a statement body is up to 100,000 characters, like a comment), so
 * `eventRef` names either a consultation's history (`consultationId`, as in v2) or an organisation's stream
 * (`csoId`). The router writes v3 only for what v2 cannot say (a referenced statement event); v2 requests upcast
 * as they are, their `eventRef` being a consultation's.
 */
export const DeliveryRequestedV3 = eventSchema(
  'delivery.requested',
  3,
  Type.Object({
    ...DeliveryRef,
    eventId: Uuid,
    eventType: NotifiableEventTypeSchema,
    consultationId: Type.String({ minLength: 1 }),
    /** For a statement event: the statement (the event's key, and `consultationId`, is the organisation). */
    statementId: Type.Optional(Uuid),
    eventOccurredAt: Rfc3339,
    /** The event itself, when small enough to embed. */
    event: Type.Optional(Type.Unknown()),
    /** Otherwise where to read it, in the history of the stream it was recorded in. */
    eventRef: Type.Optional(Type.Union([ConsultationEventRef, CsoEventRef])),
    requestedAt: Rfc3339,
  }),
);
upcasters['delivery.requested@2'] = (event) => ({ ...event, version: 3 });

/** One HTTP attempt and what came of it. `round` starts at 1 and grows with each redelivery request. */
export const DeliveryAttemptedV1 = eventSchema(
  'delivery.attempted',
  1,
  Type.Object({
    ...DeliveryRef,
    round: Type.Integer({ minimum: 1 }),
    /** Attempt number within the round, from 1. */
    attempt: Type.Integer({ minimum: 1 }),
    at: Rfc3339,
    durationMs: Type.Integer({ minimum: 0 }),
    statusCode: Type.Optional(Type.Integer()),
    error: Type.Optional(Type.String({ maxLength: 500 })),
    outcome: Type.Union([Type.Literal('succeeded'), Type.Literal('failed')]),
    nextAttemptAt: Type.Optional(Rfc3339),
  }),
);

/** The last attempt of a round failed: the delivery is parked (and copied to the dead-letter topic). */
export const DeliveryDeadLetteredV1 = eventSchema(
  'delivery.dead-lettered',
  1,
  Type.Object({ ...DeliveryRef, round: Type.Integer({ minimum: 1 }), attempts: Type.Integer({ minimum: 1 }), at: Rfc3339 }),
);

/** The subscriber asked to send it again: a new round of attempts with the same delivery id. */
export const DeliveryRedeliveryRequestedV1 = eventSchema(
  'delivery.redelivery-requested',
  1,
  Type.Object({ ...DeliveryRef, requestId: Uuid, requestedAt: Rfc3339 }),
);

export const DeliveryRecord = Type.Union([
  DeliveryRequestedV1,
  DeliveryRequestedV2,
  DeliveryRequestedV3,
  DeliveryAttemptedV1,
  DeliveryDeadLetteredV1,
  DeliveryRedeliveryRequestedV1,
]);
export type DeliveryRecord = Static<typeof DeliveryRecord>;
export type DeliveryRecordOf<T extends DeliveryRecord['type']> = Extract<DeliveryRecord, { type: T }>;

export const subscriptionEventCodec = new Codec('subscription event', SubscriptionEvent);
export const deliveryRecordCodec = new Codec('delivery record', DeliveryRecord);

/**
 * The body POSTed to a subscriber (documented in docs/webhooks.md). `event` is the consultation event as
 * recorded (envelope + data); receivers ignore unknown fields.
 */
export interface NotificationBody {
  deliveryId: string;
  subscriptionId: string;
  type: NotifiableEventType;
  event: unknown;
}

// ---- topics ----

export interface NotificationTopicNames {
  readonly subscriptionEvents: string;
  /** Compacted: the data keys that open the sealed webhook secrets, tombstoned when a subscription is deleted. */
  readonly subscriptionKeys: string;
  readonly deliveries: string;
  readonly deadLetters: string;
}

/** Notification topics live beside the consultation topics, under the same prefix. */
export function notificationTopicNames(names: TopicNames): NotificationTopicNames {
  const prefix = names.consultationEvents.slice(0, -'consultation.events'.length);
  return {
    subscriptionEvents: `${prefix}subscription.events`,
    subscriptionKeys: `${prefix}subscription.keys`,
    deliveries: `${prefix}notification.deliveries`,
    deadLetters: `${prefix}notification.dead-letters`,
  };
}

export const DELIVERY_PARTITIONS = 6;

export function notificationTopicSpecs(names: NotificationTopicNames): TopicSpec[] {
  const forever = { 'retention.ms': '-1', 'retention.bytes': '-1', 'cleanup.policy': 'delete' };
  // Requests embed their event (a comment can be 100,000 characters) and the router writes a chunk of them in
  // one transaction: allow record batches well above the broker's 1 MB default.
  const large = { 'max.message.bytes': String(32 * 1024 * 1024) };
  return [
    { name: names.subscriptionEvents, partitions: 1, config: forever },
    // Compacted quickly so a tombstoned data key is physically gone within hours (see docs/webhooks.md).
    {
      name: names.subscriptionKeys,
      partitions: 1,
      config: { 'cleanup.policy': 'compact', 'segment.ms': String(3_600_000), 'min.cleanable.dirty.ratio': '0.01', 'delete.retention.ms': String(3_600_000), 'max.compaction.lag.ms': String(3_600_000) },
    },
    // Delivery history must outlive any Redis flush for as long as it is shown; a month is the promise.
    {
      name: names.deliveries,
      partitions: DELIVERY_PARTITIONS,
      config: { 'retention.ms': String(30 * 86_400_000), 'cleanup.policy': 'delete', ...large },
    },
    { name: names.deadLetters, partitions: DELIVERY_PARTITIONS, config: { ...forever, ...large } },
  ];
}

export function notifierGroupId(names: TopicNames, role: 'router' | 'worker' | 'projector', keyPrefix = ''): string {
  return role === 'projector'
    ? `${names.consultationEvents}.notifier-projector.${keyPrefix}`
    : `${names.consultationEvents}.notifier-${role}`;
}

// ---- who may see which event: one pure function, used by webhook routing and the SSE stream ----

/**
 * Who an event concerns: the secretariat, these member states, these organisations (CSOs), the Standing
 * Committee, and always the auditors. The last two are optional so audiences stored before them still read.
 */
export interface Audience {
  secretariat: boolean;
  memberStates: string[];
  csos?: string[];
  committee?: boolean;
}

export interface Recipient {
  kind: Static<typeof Actor>['kind'];
  id: string;
}

/**
 * The audience of a consultation event. `addressees` are the consultation's (from its `opened` event); only
 * `deadline-extended` needs them, every other event names its audience itself:
 * - opened, deadline-extended, document-version-issued (a corrigendum or revision), silence-broken → the
 *   addressees and the secretariat;
 * - reminder-issued → only the member states still `pending` (not the secretariat: it reminds, it is not reminded);
 * - closed (responded/pending summary) → the secretariat and every addressee;
 * - silence-outcome-revised (the closing's outcome, revised by an on-time break processed after it) → the same
 *   audience as the closing it revises: the secretariat and every addressee;
 * - comment-submitted/amended/withdrawn, no-comments-submitted → the secretariat and that member state.
 * Auditors may see everything; other principals (CSOs, committees) nothing here.
 */
export function audienceOf(event: ConsultationEvent, addressees: readonly string[] = []): Audience {
  switch (event.type) {
    case 'consultation.opened':
      return { secretariat: true, memberStates: [...event.data.addressees] };
    case 'consultation.deadline-extended':
    case 'consultation.document-version-issued':
    case 'consultation.silence-broken':
      return { secretariat: true, memberStates: [...addressees] };
    case 'consultation.reminder-issued':
      return { secretariat: false, memberStates: [...event.data.pending] };
    case 'consultation.closed':
      return {
        secretariat: true,
        memberStates: [...new Set([...event.data.responded, ...event.data.noComments, ...event.data.pending])],
      };
    case 'consultation.silence-outcome-revised':
      // The closing named every addressee (responded, no comments or pending); so does its revision.
      return { secretariat: true, memberStates: [...addressees] };
    case 'consultation.no-comments-submitted':
    case 'consultation.comment-submitted':
    case 'consultation.comment-amended':
    case 'consultation.comment-withdrawn':
      return { secretariat: true, memberStates: [event.data.memberState] };
  }
}

/** Events whose audience is the consultation's addressees, which the event itself does not name. */
export function needsAddressees(event: ConsultationEvent): boolean {
  return (
    event.type === 'consultation.deadline-extended' ||
    event.type === 'consultation.document-version-issued' ||
    event.type === 'consultation.silence-broken' ||
    event.type === 'consultation.silence-outcome-revised'
  );
}

export function inAudience(recipient: Recipient, audience: Audience): boolean {
  switch (recipient.kind) {
    case 'auditor':
      return true;
    case 'secretariat':
      return audience.secretariat;
    case 'member-state':
      return audience.memberStates.includes(recipient.id);
    case 'cso':
      return audience.csos?.includes(recipient.id) ?? false;
    case 'standing-committee':
      return audience.committee ?? false;
    default:
      return false;
  }
}

/** May this principal receive this event (webhook or live stream)? */
export function mayReceive(recipient: Recipient, event: ConsultationEvent, addressees: readonly string[] = []): boolean {
  return inAudience(recipient, audienceOf(event, addressees));
}

export const AudienceSchema = Type.Object({
  secretariat: Type.Boolean(),
  memberStates: Type.Array(MemberStateCode),
  csos: Type.Optional(Type.Array(Type.String())),
  committee: Type.Optional(Type.Boolean()),
});

/**
 * The audience of a statement event (`cso.events`), or null for the events no subscription may ask for
 * (accreditation, and the co-signer's own-stream records of its decision, which reach the lead as
 * `statement-co-signed`/`-co-signing-declined`). The organisation learns of every step of its own statements,
 * each co-signature and decline included (and co-signers of the statements they co-sign); the Secretariat of
 * each statement entering its review queue (the submission of one that names no co-signers, or the last
 * co-signature: never of one still awaiting signatures, or declined) and of the committee's acknowledgement of
 * what it forwarded; the Standing Committee of each statement forwarded to it (and of nothing before: what the
 * Secretariat has not forwarded is not the committee's to see).
 */
export function statementAudienceOf(event: CsoEvent, coSigners: readonly string[] = []): Audience | null {
  const named = event.type === 'cso.statement-submitted' ? (event.data.coSigners ?? []) : [];
  const csos = [...new Set([event.key, ...coSigners, ...named])];
  switch (event.type) {
    case 'cso.statement-submitted':
      return { secretariat: named.length === 0, memberStates: [], csos };
    case 'cso.statement-co-signed':
      return { secretariat: event.data.awaiting.length === 0, memberStates: [], csos };
    case 'cso.statement-co-signing-declined':
      return { secretariat: false, memberStates: [], csos };
    case 'cso.statement-review-started':
    case 'cso.statement-returned':
      return { secretariat: false, memberStates: [], csos };
    case 'cso.statement-forwarded':
      return { secretariat: false, memberStates: [], csos, committee: true };
    case 'cso.statement-acknowledged':
      return { secretariat: true, memberStates: [], csos, committee: true };
    default:
      return null;
  }
}

/** Every topic the system uses: the streams' and the notifications'. Processes that create topics use this. */
export function allTopicSpecs(names: TopicNames): TopicSpec[] {
  return [...topicSpecs(names), ...notificationTopicSpecs(notificationTopicNames(names))];
}
