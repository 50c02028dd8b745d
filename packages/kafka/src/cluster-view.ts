import { kafkajsOf } from './kafkajs-client.js';
import type { KafkaClient } from './client.js';

/** A partition's offsets: `high` is the end (the next offset to be written), `low` the earliest kept. */
export interface PartitionEnds {
  partition: number;
  high: string;
  low: string;
}

export interface GroupView {
  groupId: string;
  /** kafkajs' name of the group's state: 'Stable', 'PreparingRebalance', 'Empty', 'Dead', … */
  state: string;
  members: number;
}

/** The few questions services ask of the cluster itself (readiness, rebuilds), over one admin connection. */
export interface ClusterView {
  ends(topic: string): Promise<PartitionEnds[]>;
  groups(groupIds: string[]): Promise<GroupView[]>;
  /** A group's committed offset per partition of `topic` ('-1' where it has none). */
  committed(groupId: string, topic: string): Promise<Map<number, string>>;
}

/** Connects an admin client, answers `ask` with it, and disconnects; a connect failure rejects before `ask`. */
export async function withClusterView<T>(kafka: KafkaClient, ask: (view: ClusterView) => Promise<T>): Promise<T> {
  const admin = kafkajsOf(kafka).admin();
  await admin.connect();
  try {
    return await ask({
      ends: async (topic) => (await admin.fetchTopicOffsets(topic)).map(({ partition, high, low }) => ({ partition, high, low })),
      groups: async (groupIds) =>
        (await admin.describeGroups(groupIds)).groups.map((g) => ({ groupId: g.groupId, state: g.state, members: g.members.length })),
      committed: async (groupId, topic) => {
        const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
        return new Map((offsets?.partitions ?? []).map((p) => [p.partition, p.offset]));
      },
    });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
