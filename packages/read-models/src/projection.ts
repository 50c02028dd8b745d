import {
  commandOutcomeCodec,
  consultationEventCodec,
  csoEventCodec,
  identityEventCodec,
  type CommandOutcome,
  type ConsultationEvent,
  type CsoEvent,
  type IdentityEvent,
  type TopicNames,
} from '@consult/contracts';
import type { ChainableCommander, KeySpace, OffsetLayout } from '@consult/redis';
import { projectorOffsetLayout } from './layout.js';
import { ConsultationReadModel } from './consultations.js';
import { CsoReadModel } from './statements.js';

/** What the projector announces after each applied batch, for gateways waiting to answer read-your-write. */
export interface ProjectionNotice {
  versions?: [string, number][];
  outcomes?: CommandOutcome[];
  /** API keys whose record changed (issued, revoked, expiry set): gateways evict them from their caches at once. */
  keys?: { keyId: string; keyHash: string; type: string }[];
}

/** A decoded record of one of the topics the read models are built from. */
export type ProjectedRecord =
  | { kind: 'consultation-event'; event: ConsultationEvent; raw: string }
  | { kind: 'outcome'; outcome: CommandOutcome }
  | { kind: 'identity'; event: IdentityEvent }
  | { kind: 'cso-event'; event: CsoEvent; raw: string };

/**
 * The one definition of how the consultation, CSO, outcome and identity topics become the Redis read models:
 * which topics, how each record is decoded, and which effects a batch has. The projector and the replay
 * tool's rebuild both use it, so a rebuilt key space can be compared key by key with the live one.
 */
export class ReadModelProjection {
  readonly consultations: ConsultationReadModel;
  readonly csos: CsoReadModel;
  /** Where the projector's batches and offsets go (`projectorOffsetLayout`). */
  readonly offsetLayout: OffsetLayout;
  private readonly decoders: Map<string, (value: Buffer | null) => ProjectedRecord>;

  constructor(
    readonly topicNames: TopicNames,
    keys: KeySpace,
  ) {
    this.consultations = new ConsultationReadModel(keys);
    this.csos = new CsoReadModel(keys);
    this.offsetLayout = projectorOffsetLayout(topicNames);
    this.decoders = new Map<string, (value: Buffer | null) => ProjectedRecord>([
      [
        topicNames.consultationEvents,
        (value) => {
          const raw = value?.toString('utf8') ?? null;
          return { kind: 'consultation-event', event: consultationEventCodec.decode(raw), raw: raw ?? '' };
        },
      ],
      [topicNames.consultationOutcomes, (value) => ({ kind: 'outcome', outcome: commandOutcomeCodec.decode(value) })],
      [topicNames.identityEvents, (value) => ({ kind: 'identity', event: identityEventCodec.decode(value) })],
      [
        topicNames.csoEvents,
        (value) => {
          const raw = value?.toString('utf8') ?? null;
          return { kind: 'cso-event', event: csoEventCodec.decode(raw), raw: raw ?? '' };
        },
      ],
      [topicNames.csoOutcomes, (value) => ({ kind: 'outcome', outcome: commandOutcomeCodec.decode(value) })],
    ]);
  }

  /** The topics the read models are derived from. */
  get topics(): string[] {
    return [...this.decoders.keys()];
  }

  /** Decodes a record of `topic`; throws `ContractViolation` for one that does not match its contract. */
  decode(topic: string, value: Buffer | null): ProjectedRecord {
    const decoder = this.decoders.get(topic);
    if (!decoder) throw new Error(`not a read-model topic: ${topic}`);
    return decoder(value);
  }

  /** The hash tag of a topic partition's batches and offsets (`layout.ts`). */
  tagOf(topic: string, partition: number): string {
    return this.offsetLayout.tagOf(topic, partition);
  }

  /**
   * Appends the effects of records (in order) of one topic partition to `commands`, every key under the
   * partition's tag `tag` (`tagOf`); returns what to announce once they are stored.
   */
  project(commands: ChainableCommander, records: Iterable<ProjectedRecord>, tag: string): ProjectionNotice {
    const versions = new Map<string, number>();
    const outcomes: CommandOutcome[] = [];
    const keys: NonNullable<ProjectionNotice['keys']> = [];
    for (const record of records) {
      switch (record.kind) {
        case 'consultation-event':
          this.consultations.applyEvent(commands, record.event, record.raw);
          versions.set(record.event.key, record.event.sequence);
          break;
        case 'outcome':
          this.consultations.applyOutcome(commands, record.outcome, tag);
          outcomes.push(record.outcome);
          break;
        case 'identity':
          this.consultations.applyIdentity(commands, record.event);
          keys.push({ keyId: record.event.data.keyId, keyHash: record.event.data.keyHash, type: record.event.type });
          break;
        case 'cso-event':
          // CSO streams announce their versions under CsoReadModel.streamKey, apart from consultation ids.
          this.csos.applyEvent(commands, record.event, record.raw);
          versions.set(CsoReadModel.streamKey(record.event.key), record.event.sequence);
          break;
      }
    }
    const notice: ProjectionNotice = {};
    if (versions.size > 0) notice.versions = [...versions];
    if (outcomes.length > 0) notice.outcomes = outcomes;
    if (keys.length > 0) notice.keys = keys;
    return notice;
  }
}
