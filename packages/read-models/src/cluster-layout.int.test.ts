import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionOfKey, STREAM_PARTITIONS, topicNames, type CommandOutcome, type ConsultationEvent, type CsoEvent, type IdentityEvent } from '@consult/contracts';
import { CoalescingMulti, createRedisClient, KeySpace, RedisOffsetStore, type RedisClient } from '@consult/redis';
import { startRedisCluster, type RedisCluster } from '../../../tests/support/redis-cluster.js';
import { testLogger, uniqueName } from '../../../tests/support/kafka.js';
import { ReadModelProjection, type ProjectedRecord } from './projection.js';

/**
 * Every projector batch (one topic partition's records, effects and offset in one script) stays in one hash
 * slot of a three-master Redis Cluster: none is refused with CROSSSLOT, and the per-partition indexes read back
 * merged as one. Ports: REDIS_CLUSTER_TEST_PORTS / REDIS_CLUSTER_TEST_BUS_PORTS (as the redis package's test,
 * which runs before or after this file, never beside it).
 */
const ports = (value: string): number[] => value.split(',').map(Number);
const PORTS = ports(process.env.REDIS_CLUSTER_TEST_PORTS ?? '17001,17002,17003');
const BUS_PORTS = ports(process.env.REDIS_CLUSTER_TEST_BUS_PORTS ?? '17101,17102,17103');

const actor = { kind: 'secretariat', id: 'SEC' };
let sequence = 0;
const envelope = (key: string, type: string, data: Record<string, unknown>, seq: number) => ({
  id: randomUUID(),
  source: 'test',
  type,
  time: '2030-01-01T00:00:00.000Z',
  version: 1,
  key,
  sequence: seq,
  previousHash: '0',
  hash: String(++sequence),
  correlationId: randomUUID(),
  causationId: randomUUID(),
  actor,
  data,
});

function consultationEvents(id: string, opened: number): ConsultationEvent[] {
  const commentId = randomUUID();
  const at = new Date(Date.UTC(2030, 0, 1) + opened * 60_000).toISOString();
  const raw = [
    envelope(id, 'consultation.opened', {
      reference: `IO/${opened}`,
      title: 'Draft',
      documents: [{ language: 'en', title: 'Draft' }],
      addressees: ['KHM', 'THA'],
      commentVisibility: 'own',
      reminderOffsetsSeconds: [3600],
      openedAt: at,
      deadline: '2031-01-01T00:00:00.000Z',
    }, 1),
    envelope(id, 'consultation.comment-submitted', { commentId, trackingNumber: `IO/${opened}/KHM/1`, memberState: 'KHM', body: 'Yes.', language: 'en', receivedAt: at }, 2),
    envelope(id, 'consultation.comment-amended', { commentId, memberState: 'KHM', body: 'Yes!', language: 'en', revision: 2, receivedAt: at }, 3),
    envelope(id, 'consultation.no-comments-submitted', { memberState: 'THA', receivedAt: at }, 4),
    envelope(id, 'consultation.deadline-extended', { previousDeadline: '2031-01-01T00:00:00.000Z', deadline: '2031-02-01T00:00:00.000Z', reason: 'asked' }, 5),
    ...(opened % 2 === 0 ? [envelope(id, 'consultation.closed', { closedAt: at, responded: ['KHM'], noComments: ['THA'], pending: [] }, 6)] : []),
  ];
  return raw as unknown as ConsultationEvent[];
}

describe('the read models on a Redis Cluster', () => {
  let cluster: RedisCluster | undefined;
  let redis: RedisClient;
  const topics = topicNames(uniqueName('rm'));
  const keys = new KeySpace(uniqueName('rm'));
  const projection = new ReadModelProjection(topics, keys);
  const offsets = new RedisOffsetStore(keys, 'projector', projection.offsetLayout);

  beforeAll(async () => {
    cluster = await startRedisCluster(PORTS, BUS_PORTS);
    redis = createRedisClient(cluster.url, testLogger);
  }, 90_000);
  afterAll(async () => {
    if (redis) {
      await keys.clear(redis);
      redis.disconnect();
    }
    await cluster?.stop();
  }, 60_000);

  /** One batch of one topic partition, as the projector applies it. */
  const apply = async (topic: string, partition: number, records: ProjectedRecord[], expectedNext = 0n): Promise<bigint | null> => {
    const commands = new CoalescingMulti();
    const notice = projection.project(commands.commander, records, projection.tagOf(topic, partition));
    commands.commander.publish(projection.consultations.projectedChannel, JSON.stringify(notice));
    return offsets.applyAt(redis, topic, partition, expectedNext, String(records.length - 1), commands.commands());
  };

  it('applies every partition’s batch in one slot and reads the partitions back merged, as one index', async () => {
    const ids = Array.from({ length: 24 }, () => randomUUID());
    const byPartition = new Map<number, { id: string; opened: number }[]>();
    ids.forEach((id, opened) => {
      const p = partitionOfKey(id, STREAM_PARTITIONS);
      byPartition.set(p, [...(byPartition.get(p) ?? []), { id, opened }]);
    });
    expect(byPartition.size).toBeGreaterThan(2);
    for (const [partition, streams] of byPartition) {
      const records: ProjectedRecord[] = streams.flatMap(({ id, opened }) =>
        consultationEvents(id, opened).map((event) => ({ kind: 'consultation-event' as const, event, raw: JSON.stringify(event) })),
      );
      expect(await apply(topics.consultationEvents, partition, records)).toBeNull();
      const outcome = { type: 'command.outcome', version: 1, commandId: randomUUID(), commandType: 'x', key: streams[0]!.id, decidedAt: '2030-01-01T00:00:00.000Z', actor, result: { status: 'rejected', code: 'c', detail: 'd' } };
      expect(await apply(topics.consultationOutcomes, partition, [{ kind: 'outcome', outcome: outcome as CommandOutcome }])).toBeNull();
      expect(await projection.consultations.outcome(redis, outcome.commandId)).toEqual(outcome);
    }
    const identity = envelope('k1', 'identity.api-key-issued', { keyId: 'k1', keyHash: 'h1', principal: { kind: 'member-state', id: 'KHM' } }, 1);
    expect(await apply(topics.identityEvents, 0, [{ kind: 'identity', event: identity as unknown as IdentityEvent }])).toBeNull();
    expect((await projection.consultations.apiKeyRecord(redis, 'h1'))?.principal.id).toBe('KHM');

    const csoId = randomUUID();
    const statementId = randomUUID();
    const cso = [
      envelope(csoId, 'cso.accredited', { name: 'NGO', linkBody: 'x', contact: { email: 'a@b.c' }, accreditedAt: '2030-01-01T00:00:00.000Z', accreditedUntil: '2031-01-01T00:00:00.000Z' }, 1),
      envelope(csoId, 'cso.statement-submitted', { statementId, trackingNumber: 'S/1', subject: 's', body: 'b', language: 'en', receivedAt: '2030-01-02T00:00:00.000Z', coSigners: [randomUUID()] }, 2),
    ] as unknown as CsoEvent[];
    expect(await apply(topics.csoEvents, partitionOfKey(csoId, STREAM_PARTITIONS), cso.map((event) => ({ kind: 'cso-event' as const, event, raw: JSON.stringify(event) })))).toBeNull();
    expect((await projection.csos.statementById(redis, statementId))?.status).toBe('awaiting-co-signatures');
    expect((await projection.csos.list(redis, '2030-06-01T00:00:00.000Z', { offset: 0, limit: 10 })).total).toBe(1);

    // The indexes, merged over the partitions, answer as one: same order, same totals.
    const closed = ids.filter((_, i) => i % 2 === 0);
    const all = await projection.consultations.list(redis, undefined, { offset: 0, limit: 100 });
    expect(all.total).toBe(24);
    expect(all.items.map((v) => v.id)).toEqual([...ids].reverse());
    const page = await projection.consultations.list(redis, undefined, { offset: 5, limit: 7 });
    expect(page.items.map((v) => v.id)).toEqual([...ids].reverse().slice(5, 12));
    expect((await projection.consultations.list(redis, 'closed', { offset: 0, limit: 100 })).total).toBe(closed.length);
    const own = await projection.consultations.listFor(redis, 'KHM', 'open', { offset: 1, limit: 3 });
    expect(own.total).toBe(12);
    expect(own.items).toHaveLength(3);
    const view = await projection.consultations.get(redis, ids[1]!);
    expect(view).toMatchObject({ status: 'open', deadline: '2031-02-01T00:00:00.000Z', commentCount: 1, responses: { KHM: 'commented', THA: 'no-comments' } });
    const comments = await projection.consultations.comments(redis, ids[1]!, { limit: 10 });
    expect(comments.items.map((c) => c.body)).toEqual(['Yes!']);
    expect(await projection.consultations.openedBetween(redis, Date.UTC(2030, 0, 1), Date.UTC(2030, 0, 1) + 3 * 60_000)).toEqual(ids.slice(0, 3));
  });

  it('applies a batch once: the same write again, after a lost reply, is refused and says where the store stands', async () => {
    const id = randomUUID();
    const partition = partitionOfKey(id, STREAM_PARTITIONS);
    const records = consultationEvents(id, 100).map((event) => ({ kind: 'consultation-event' as const, event, raw: JSON.stringify(event) }));
    const next = (await offsets.nextOffsets(redis)).get(RedisOffsetStore.field(topics.consultationEvents, partition)) ?? 0n;
    expect(await apply(topics.consultationEvents, partition, records, next)).toBeNull();
    expect(await apply(topics.consultationEvents, partition, records, next)).toBe(BigInt(records.length));
    expect(await projection.consultations.fullHistory(redis, id)).toHaveLength(records.length);
  });
});
