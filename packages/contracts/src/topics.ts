/**
 * Topic names and settings are part of the contract: the project creates its topics itself (auto-creation is
 * off and misbehaves under KRaft), with explicit partitions, and history topics keep everything forever.
 */
export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly config: Readonly<Record<string, string>>;
}

const KEEP_FOREVER = { 'retention.ms': '-1', 'retention.bytes': '-1', 'cleanup.policy': 'delete' } as const;
const KEEP_A_WEEK = { 'retention.ms': String(7 * 86_400_000), 'cleanup.policy': 'delete' } as const;

/** Commands, events and outcomes of one stream share a partition count so one writer owns all three for a key. */
export const STREAM_PARTITIONS = 6;

export interface TopicNames {
  readonly consultationCommands: string;
  readonly consultationEvents: string;
  readonly consultationOutcomes: string;
  readonly identityEvents: string;
  readonly csoCommands: string;
  readonly csoEvents: string;
  readonly csoOutcomes: string;
  /** Records a consumer could not decode, set aside with where they came from and why (never retried). */
  readonly quarantine: string;
}

export function topicNames(prefix = ''): TopicNames {
  const p = prefix ? `${prefix}.` : '';
  return {
    consultationCommands: `${p}consultation.commands`,
    consultationEvents: `${p}consultation.events`,
    consultationOutcomes: `${p}consultation.outcomes`,
    identityEvents: `${p}identity.events`,
    csoCommands: `${p}cso.commands`,
    csoEvents: `${p}cso.events`,
    csoOutcomes: `${p}cso.outcomes`,
    quarantine: `${p}quarantine`,
  };
}

export function topicSpecs(names: TopicNames): TopicSpec[] {
  return [
    { name: names.consultationCommands, partitions: STREAM_PARTITIONS, config: KEEP_A_WEEK },
    { name: names.consultationEvents, partitions: STREAM_PARTITIONS, config: KEEP_FOREVER },
    { name: names.consultationOutcomes, partitions: STREAM_PARTITIONS, config: KEEP_A_WEEK },
    { name: names.identityEvents, partitions: 1, config: KEEP_FOREVER },
    { name: names.csoCommands, partitions: STREAM_PARTITIONS, config: KEEP_A_WEEK },
    { name: names.csoEvents, partitions: STREAM_PARTITIONS, config: KEEP_FOREVER },
    { name: names.csoOutcomes, partitions: STREAM_PARTITIONS, config: KEEP_A_WEEK },
    { name: names.quarantine, partitions: 1, config: KEEP_FOREVER },
  ];
}

/** Consumer group names, shared by the services that own them and the readiness probes that watch them. */
export function writerGroupId(names: TopicNames): string {
  return `${names.consultationCommands}.writer`;
}

/** The projector's group belongs to one Redis key space: a rebuild into a fresh key space is a new group. */
export function projectorGroupId(names: TopicNames, keyPrefix: string): string {
  return `${names.consultationEvents}.projector.${keyPrefix}`;
}

/** The single writer of CSO streams (accreditation and statements). */
export function csoWriterGroupId(names: TopicNames): string {
  return `${names.csoCommands}.writer`;
}
