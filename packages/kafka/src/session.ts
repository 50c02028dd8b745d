import type { ConfigResourceTypes, Kafka } from 'kafkajs';

/** kafkajs' ConfigResourceTypes.BROKER, spelled out for the same reason as TOPIC_RESOURCE in topics.ts. */
const BROKER_RESOURCE = 4 as ConfigResourceTypes;

/** Never shorter: heartbeats every second may miss two (a busy event loop, a GC pause) before a false eviction. */
export const SHORTEST_SESSION_MS = 3_000;
/** Kafka's default `group.min.session.timeout.ms`: the session when the broker's cannot be read. */
export const DEFAULT_SESSION_MS = 6_000;

/**
 * The session for consumers whose failover time matters (the single writers, the projector): the shortest the
 * broker allows (`group.min.session.timeout.ms`; 6 s on a stock broker, 3 s on infra/kafka/kafka.sh's), but
 * not below SHORTEST_SESSION_MS. A dead member's partitions move on after this long. A broker whose setting
 * cannot be read gets the default, which every broker accepts unless configured otherwise.
 */
export async function shortestSessionMs(kafka: Kafka): Promise<number> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const { brokers } = await admin.describeCluster();
    const broker = brokers[0];
    if (!broker) return DEFAULT_SESSION_MS;
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: BROKER_RESOURCE, name: String(broker.nodeId), configNames: ['group.min.session.timeout.ms'] }],
    });
    const value = Number(described.resources[0]?.configEntries.find((e) => e.configName === 'group.min.session.timeout.ms')?.configValue);
    return sessionWithin(value);
  } catch {
    return DEFAULT_SESSION_MS;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** The session for a broker minimum (NaN when unknown). */
export function sessionWithin(brokerMinimumMs: number): number {
  if (!Number.isFinite(brokerMinimumMs) || brokerMinimumMs <= 0) return DEFAULT_SESSION_MS;
  return Math.max(SHORTEST_SESSION_MS, brokerMinimumMs);
}
