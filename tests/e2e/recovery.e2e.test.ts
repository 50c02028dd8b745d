import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_KEYS, issueKeys } from '@consult/admin';
import { waitForGateway } from '@consult/devstack';
import { notificationTopicNames, quarantinedRecordCodec, sha256Hex } from '@consult/contracts';
import { BatchingProducer, readToEnd } from '@consult/kafka';
import { KeySpace, RedisOffsetStore } from '@consult/redis';
import { compareKeySpaces, rebuildPrefix, rebuildReadModels, runReplayCommand } from '@consult/replay';
import { consultationInput, Stack } from '../support/stack.js';

/**
 * Recovery without anyone's help: a Redis flush under running services, a restart right after one, records
 * nobody can decode. Each test here failed before the projectors kept their offsets beside their effects with
 * a position check (RedisProjection) and before poison records were quarantined.
 */
describe('recovery', () => {
  const stack = new Stack();
  beforeAll(async () => {
    await stack.start();
  }, 180_000);
  afterAll(async () => {
    await stack.stop();
  });

  async function seed(comments: number): Promise<string> {
    const created = await stack.client('secretariat').createConsultation(consultationInput());
    expect(created.status).toBe(201);
    const id = created.body.id;
    for (let i = 0; i < comments; i++) {
      const state = (['KHM', 'THA', 'KAZ'] as const)[i % 3]!;
      const posted = await stack.client(state).postComment(id, { body: `comment ${i}`, language: 'en' }, `rec-${id}-${i}`);
      expect(posted.status).toBe(201);
    }
    return id;
  }

  async function snapshot(id: string) {
    const consultation = await stack.client('secretariat').getConsultation(id);
    const comments = await stack.client('secretariat').listComments(id);
    return { status: [consultation.status, comments.status], consultation: consultation.body, comments: comments.body };
  }

  async function rebuiltDifferences(): Promise<string[]> {
    const prefix = rebuildPrefix(stack.keyPrefix);
    try {
      await rebuildReadModels({ kafka: stack.kafka, redis: stack.redis, logger: stack.logger, topics: stack.topics, keyPrefix: prefix });
      const result = await compareKeySpaces(stack.redis, stack.keyPrefix, prefix);
      return result.differences.map((d) => `${d.key}: ${d.kind} ${d.detail}`);
    } finally {
      await new KeySpace(prefix).clear(stack.redis);
    }
  }

  it('heals a Redis flush under the running projector by itself: never a 401, and equal to a rebuild', async () => {
    const id = await seed(6);
    const before = await snapshot(id);
    expect(await stack.flushRedis()).toBeGreaterThan(10);
    // A key the gateway has not cached: right after the flush it is unknown to Redis too.
    const fresh = await stack.issueKey({ kind: 'auditor', id: `auditor-${randomUUID().slice(0, 8)}` });
    await stack.flushRedis();
    const statuses = new Set<number>();
    const started = Date.now();
    await stack.until(async () => {
      const response = await fetch(`${stack.baseUrl}/v1/consultations/${id}`, { headers: { authorization: `Bearer ${fresh.secret}` } });
      statuses.add(response.status);
      return response.status === 200;
    }, 20_000, 'the flushed read models to come back without a restart');
    expect(Date.now() - started).toBeLessThan(15_000);
    // While rebuilding the answer is "retry" (503), never "your key is unknown" (401) or "no such" (404).
    expect([...statuses].filter((s) => s !== 200 && s !== 503)).toEqual([]);
    await stack.until(async () => JSON.stringify(await snapshot(id)) === JSON.stringify(before), 20_000, 'identical answers');
    expect(await snapshot(id)).toEqual(before);
    expect(await rebuiltDifferences()).toEqual([]);
  }, 90_000);

  it('heals when the projector restarts right after a flush (no offsets from after the flush)', async () => {
    const id = await seed(3);
    const before = await snapshot(id);
    await stack.flushRedis();
    await stack.stopProjector();
    await stack.startProjector();
    await stack.until(async () => JSON.stringify(await snapshot(id)) === JSON.stringify(before), 30_000, 'identical answers');
    expect(await rebuiltDifferences()).toEqual([]);
  }, 90_000);

  it('applies a batch at most once: the same write retried after a lost reply changes nothing', async () => {
    const keys = new KeySpace(`${stack.keyPrefix}-twice`);
    const offsets = new RedisOffsetStore(keys, 'test', { tagOf: () => 't0', tags: ['t0'] });
    const key = keys.tagged('t0', 'list');
    const commands = [['rpush', key, 'a'], ['hincrby', `${key}:count`, 'n', '1']];
    expect(await offsets.applyAt(stack.redis, 't', 0, 0n, '4', commands)).toBeNull();
    // The same batch again, as a retry would send it: refused, and the store says where it stands.
    expect(await offsets.applyAt(stack.redis, 't', 0, 0n, '4', commands)).toBe(5n);
    expect(await stack.redis.lrange(key, 0, -1)).toEqual(['a']);
    expect(await stack.redis.hget(`${key}:count`, 'n')).toBe('1');
    await new KeySpace(`${stack.keyPrefix}-twice`).clear(stack.redis);
  });

  it('quarantines records nobody can decode, with where they came from, and goes on', async () => {
    const poison = (topic: string) => [
      { key: 'poison', value: 'not json {' },
      { key: 'poison', value: JSON.stringify({ type: 'something.unknown', version: 1 }) },
      { key: 'poison', value: JSON.stringify({ type: 'consultation.opened', version: 99, data: {} }) },
    ].map((m) => ({ ...m, key: `${m.key}-${topic}` }));
    const n = notificationTopicNames(stack.topics);
    const consumed = [
      stack.topics.consultationEvents,
      stack.topics.consultationOutcomes,
      stack.topics.identityEvents,
      stack.topics.csoEvents,
      stack.topics.csoOutcomes,
      n.subscriptionEvents,
      n.deliveries,
    ];
    for (const topic of consumed) await stack.produceRaw(topic, poison(topic));
    // A malformed command that still names its id and sender: its status URL must end up decided.
    const commandId = randomUUID();
    await stack.produceRaw(stack.topics.consultationCommands, [
      { key: 'x', value: JSON.stringify({ id: commandId, type: 'consultation.submit-comment', key: 'x', version: 1, actor: { kind: 'member-state', id: 'KHM' } }) },
    ]);
    await stack.produceRaw(stack.topics.csoCommands, [{ key: 'x', value: 'not json' }]);

    // Consumption goes on: a new consultation and comment still work end to end.
    const id = await seed(1);
    expect((await stack.client('KHM').getConsultation(id)).status).toBe(200);
    await stack.until(async () => {
      const status = await stack.client('KHM').commandStatus(commandId);
      return status.status === 200 && status.body.status === 'rejected';
    }, 20_000, 'the malformed command to be decided');
    const decided = await stack.client('KHM').commandStatus(commandId);
    expect(decided.body).toMatchObject({ status: 'rejected', problem: { code: 'malformed-command' } });

    const records: { topic: string; offset: string; reason: string[]; consumer: string }[] = [];
    await stack.until(async () => {
      records.length = 0;
      await readToEnd(stack.kafka, {
        topic: stack.topics.quarantine,
        logger: stack.logger,
        onBatch: (_p, ms) => ms.forEach((m) => records.push(quarantinedRecordCodec.decode(m.value))),
      });
      // Every consumed topic's three records, by the projector or the notifier (consultation events by both).
      return consumed.every((t) => new Set(records.filter((r) => r.topic === t).map((r) => r.offset)).size === 3);
    }, 30_000, 'every poison record quarantined');
    expect(records.some((r) => r.topic === stack.topics.consultationCommands && r.reason.length > 0)).toBe(true);
    expect(records.some((r) => r.topic === stack.topics.csoCommands)).toBe(true);
    // The replay tool lists each quarantined record once, with its position and reason.
    const lines: string[] = [];
    expect(await runReplayCommand({ kafka: stack.kafka, redis: stack.redis, logger: stack.logger, topics: stack.topics, keyPrefix: stack.keyPrefix, out: (l) => lines.push(l) }, { kind: 'quarantine' })).toBe(0);
    expect(lines.at(-1)).toMatch(/^\d+ quarantined records$/);
    expect(lines.some((l) => l.startsWith(`${stack.topics.identityEvents}[0]@`) && l.includes('not JSON'))).toBe(true);
    const ready = (await (await fetch(`${stack.baseUrl}/readyz`)).json()) as { quarantined: number };
    expect(ready.quarantined).toBeGreaterThanOrEqual(consumed.length * 3);
    // The rebuild skips what the projector quarantined, so it still equals the live key space.
    expect(await rebuiltDifferences()).toEqual([]);
    // The API keys survived the poison on the identity topic.
    expect(await stack.readModel.principalByKeyHash(stack.redis, sha256Hex(DEV_KEYS.KHM.secret))).not.toBeNull();
  }, 120_000);

  it('accepts a comment received before the deadline whose command reaches the writer after the closing', async () => {
    const deadlineMs = Date.now() + 2_000;
    const created = await stack.client('secretariat').createConsultation(consultationInput({ deadline: new Date(deadlineMs).toISOString() }));
    const id = created.body.id;
    await stack.until(async () => (await stack.client('secretariat').getConsultation(id)).body.status === 'closed', 20_000, 'the closing');
    // The gateway stamped it 1.5 s before the deadline; a broker restart held it up past the closing.
    const commandId = randomUUID();
    await stack.sendCommand({
      id: commandId,
      type: 'consultation.submit-comment',
      version: 1,
      key: id,
      receivedAt: new Date(deadlineMs - 1_500).toISOString(),
      correlationId: commandId,
      actor: { kind: 'member-state', id: 'THA' },
      data: { commentId: randomUUID(), memberState: 'THA', idempotencyKey: 'held-up', body: 'Thailand supports the draft.', language: 'en', bodyHash: 'a'.repeat(64) },
    });
    await stack.until(async () => (await stack.readModel.outcome(stack.redis, commandId)) !== null, 20_000, 'a decision');
    expect((await stack.client('THA').commandStatus(commandId)).body).toMatchObject({ status: 'accepted' });
    const view = await stack.client('secretariat').getConsultation(id);
    expect(view.body).toMatchObject({ status: 'closed', responses: { THA: 'commented' } });
  }, 60_000);

  it('start-up waits for the keys it depends on instead of racing the projector (npm start after a reset)', async () => {
    await stack.stopProjector();
    const producer = new BatchingProducer(stack.kafka, stack.logger);
    await producer.connect();
    const [key] = await issueKeys(producer, stack.topics, [{ kind: 'secretariat', id: `sec-${randomUUID().slice(0, 8)}` }]);
    await producer.close();
    let waited = false;
    const waiting = waitForGateway(stack.baseUrl, key!.secret, 60_000).then(() => (waited = true));
    await new Promise((r) => setTimeout(r, 2_000));
    // The key is in Kafka but not projected: whoever waits must still be waiting.
    expect(waited).toBe(false);
    await stack.startProjector();
    await waiting;
    const created = await fetch(`${stack.baseUrl}/v1/consultations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key!.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify(consultationInput()),
    });
    expect(created.status).toBe(201);
  }, 90_000);

  it('is not ready while a single writer is down, and ready again once it is back', async () => {
    const readyz = async () => (await (await fetch(`${stack.baseUrl}/readyz`)).json()) as { ready: boolean; reasons: string[] };
    await stack.until(async () => (await readyz()).ready, 20_000, 'ready');
    await stack.stopWriter();
    await stack.until(async () => !(await readyz()).ready, 20_000, 'not ready without a writer');
    expect((await readyz()).reasons.join(' ')).toContain('consultation writer');
    await stack.startWriter();
    await stack.until(async () => (await readyz()).ready, 30_000, 'ready again');
  }, 90_000);
});
