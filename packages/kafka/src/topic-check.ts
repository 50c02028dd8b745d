import type { TopicSpec } from './topics.js';

/**
 * Pure rules for the project's topics on a given cluster: the replication a topic must have there, and what in
 * an existing topic would weaken a guarantee the project relies on. No IO: `ensureTopics` fetches what the
 * broker reports and asks these.
 */

/** The replication every project topic gets (and must keep) on a cluster. */
export interface Replication {
  readonly replicationFactor: number;
  /** The replicas that must have a record before an `acks=all` write (every producer here) is acknowledged. */
  readonly minInsyncReplicas: number;
}

/**
 * Three copies, two of them in sync, from three brokers on: a broker may fail (or restart) without losing an
 * acknowledged record or stopping writes. Below three there is no majority to keep: as many copies as brokers
 * and one in sync (two of two would stop every write whenever either broker restarts).
 */
export function replicationFor(brokers: number): Replication {
  if (brokers >= 3) return { replicationFactor: 3, minInsyncReplicas: 2 };
  return { replicationFactor: Math.max(1, Math.floor(brokers)), minInsyncReplicas: 1 };
}

/** An existing topic as the cluster reports it. */
export interface ObservedTopic {
  readonly name: string;
  readonly partitions: number;
  /** The smallest number of replicas of any of its partitions. */
  readonly replicationFactor: number;
  /** Effective values (the topic's own or the broker's default) of the settings asked for. */
  readonly config: Readonly<Record<string, string | undefined>>;
}

export interface TopicFinding {
  readonly topic: string;
  readonly setting: string;
  readonly found: string;
  readonly wanted: string;
  /** `refuse`: running on it would weaken a guarantee; `warn`: it differs from the spec but weakens nothing. */
  readonly severity: 'refuse' | 'warn';
  readonly why: string;
}

/** Settings the cluster decides, not the spec: a spec that names one is overridden by `replicationFor`. */
export const CLUSTER_DECIDED_SETTINGS: ReadonlySet<string> = new Set(['min.insync.replicas']);

/** The settings `checkTopic` reads from the broker for a spec. */
export function settingsToObserve(spec: TopicSpec): string[] {
  return [...new Set(['min.insync.replicas', ...Object.keys(spec.config)])];
}

/** The topic-level settings a missing topic is created with. */
export function creationConfig(spec: TopicSpec, replication: Replication): Record<string, string> {
  return { ...spec.config, 'min.insync.replicas': String(replication.minInsyncReplicas) };
}

const RETENTION_SETTINGS = new Set(['retention.ms', 'retention.bytes']);
const UNREPORTED = '(not reported)';

function policies(value: string): string {
  return value
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .sort()
    .join(',');
}

/** A retention of -1 keeps everything; another is a limit, and a smaller one deletes records sooner. */
function retentionFinding(topic: string, setting: string, found: string | undefined, wanted: string): TopicFinding | undefined {
  if (found === wanted) return undefined;
  const f = found === undefined ? Number.NaN : Number(found);
  const w = Number(wanted);
  const base = { topic, setting, found: found ?? UNREPORTED, wanted };
  if (!Number.isFinite(f)) return { ...base, severity: 'refuse', why: 'the retention of this topic cannot be read' };
  if (w === -1 && f !== -1)
    return { ...base, severity: 'refuse', why: 'this topic keeps its records forever; a finite retention would delete history' };
  if (w !== -1 && f !== -1 && f < w) return { ...base, severity: 'refuse', why: 'records would be deleted sooner than declared' };
  return { ...base, severity: 'warn', why: 'records are kept longer than declared' };
}

/**
 * What in `observed` falls short of `spec` on a cluster that calls for `replication`.
 *
 * Refused (each would silently break a promise once running):
 * - fewer or MORE partitions than declared. A key's partition is murmur2(key) mod the partition count: with
 *   another count a stream's new records land on another partition than its history (its order is lost), and
 *   a stream's commands, events and outcomes stop sharing a partition, which the single writer per key relies
 *   on. Kafka cannot take partitions away, so the fix is a new topic, not a setting: refusing says so early.
 * - a replication factor or `min.insync.replicas` below what the cluster's size calls for, or
 *   `min.insync.replicas` above the replication factor (no `acks=all` write could ever succeed);
 * - another `cleanup.policy` than declared (compaction drops all but a key's latest record; deletion drops
 *   records by age);
 * - a retention below the declared one, or any finite retention where the spec keeps records forever.
 * Warned (kept, logged): a longer retention than declared, and any other declared setting that differs.
 */
export function checkTopic(spec: TopicSpec, observed: ObservedTopic, replication: Replication): TopicFinding[] {
  const topic = spec.name;
  const findings: TopicFinding[] = [];
  const refuse = (setting: string, found: string, wanted: string, why: string): void => {
    findings.push({ topic, setting, found, wanted, severity: 'refuse', why });
  };

  if (observed.partitions !== spec.partitions)
    refuse(
      'partitions',
      String(observed.partitions),
      String(spec.partitions),
      observed.partitions < spec.partitions
        ? 'fewer partitions than declared would move keys to other partitions than their history'
        : 'more partitions than declared would move keys to other partitions than their history and break co-partitioning (Kafka cannot remove partitions: recreate the topic)',
    );

  if (observed.replicationFactor < replication.replicationFactor)
    refuse(
      'replication factor',
      String(observed.replicationFactor),
      `${replication.replicationFactor} or more`,
      'fewer copies than the cluster size calls for: losing a broker could lose acknowledged records',
    );

  const minIsrFound = observed.config['min.insync.replicas'];
  const minIsr = minIsrFound === undefined ? Number.NaN : Number(minIsrFound);
  if (!Number.isFinite(minIsr) || minIsr < replication.minInsyncReplicas)
    refuse(
      'min.insync.replicas',
      minIsrFound ?? UNREPORTED,
      `${replication.minInsyncReplicas} or more`,
      'a write would be acknowledged before enough brokers have it: losing one broker could lose it',
    );
  else if (minIsr > observed.replicationFactor)
    refuse(
      'min.insync.replicas',
      minIsrFound!,
      `at most the replication factor (${observed.replicationFactor})`,
      'no acks=all write could ever succeed',
    );

  for (const [setting, wanted] of Object.entries(spec.config)) {
    if (CLUSTER_DECIDED_SETTINGS.has(setting)) continue;
    const found = observed.config[setting];
    if (RETENTION_SETTINGS.has(setting)) {
      const finding = retentionFinding(topic, setting, found, wanted);
      if (finding) findings.push(finding);
    } else if (setting === 'cleanup.policy') {
      if (found === undefined || policies(found) !== policies(wanted))
        refuse(setting, found ?? UNREPORTED, wanted, 'compaction keeps only the latest record of a key; deletion drops records by age');
    } else if (found !== wanted) {
      findings.push({ topic, setting, found: found ?? UNREPORTED, wanted, severity: 'warn', why: 'differs from the declared setting' });
    }
  }
  return findings;
}

/** One line: topic, setting, found, wanted, why. */
export function describeFinding(finding: TopicFinding): string {
  return `topic ${finding.topic}: ${finding.setting} is ${finding.found}, wanted ${finding.wanted} (${finding.why})`;
}
