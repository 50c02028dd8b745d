import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainHash } from '@consult/contracts';
import { BatchingProducer, readToEnd } from '@consult/kafka';
import { verifyTopics } from '@consult/replay';
import { consultationInput, Stack } from '../support/stack.js';

/**
 * Event versioning end to end (issue 10): a version-1 event in the history is read as version 2 through its
 * upcaster by the writer and the projector, while the hash chain is checked, and extended, on the bytes as
 * produced.
 */
describe('event versioning', () => {
  const stack = new Stack();
  beforeAll(async () => {
    await stack.start();
  }, 180_000);
  afterAll(async () => {
    await stack.stop();
  });

  async function streamOf(id: string): Promise<Record<string, unknown>[]> {
    const events: Record<string, unknown>[] = [];
    await readToEnd(stack.kafka, {
      topic: stack.topics.consultationEvents,
      logger: stack.logger,
      onBatch: (_p, messages) => {
        for (const m of messages) if (m.key?.toString() === id) events.push(JSON.parse(m.value!.toString('utf8')) as Record<string, unknown>);
      },
    });
    return events;
  }

  it('reads a version-1 closing as version 2, and chains the next event onto its bytes as produced', async () => {
    const created = await stack.client('secretariat').createConsultation(consultationInput());
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect((await stack.client('KHM').postComment(id, { body: 'before the closing', language: 'en' }, `v-${id}-1`)).status).toBe(201);

    // A closing as the writer wrote it before `consultation.closed` had version 2, produced while no writer runs.
    await stack.stopWriter();
    const before = await streamOf(id);
    const head = before[before.length - 1]!;
    const closedAt = new Date().toISOString();
    const unhashed = {
      id: randomUUID(),
      source: 'consultation-service',
      type: 'consultation.closed',
      version: 1,
      occurredAt: closedAt,
      key: id,
      correlationId: randomUUID(),
      causationId: null,
      actor: { kind: 'system', id: 'deadlines' },
      sequence: Number(head.sequence) + 1,
      previousHash: head.hash as string,
      data: { closedAt, deadline: created.body.deadline, responded: ['KHM'], pending: ['THA', 'KAZ'] },
    };
    const v1 = { ...unhashed, hash: chainHash(unhashed, unhashed.previousHash) };
    const producer = new BatchingProducer(stack.kafka, stack.logger);
    await producer.connect();
    await producer.send(stack.topics.consultationEvents, [{ key: id, value: JSON.stringify(v1), headers: { 'event-type': 'consultation.closed' } }]);
    await producer.close();

    // The projector reads it as version 2: the comment procedure, no nil returns, version 1 of the documents.
    await stack.until(async () => (await stack.client('secretariat').getConsultation(id)).body.status === 'closed');
    const view = (await stack.client('secretariat').getConsultation(id)).body as unknown as Record<string, unknown>;
    expect(view).toMatchObject({ status: 'closed', procedure: 'comments' });

    // The writer loads it (checking the chain on the bytes) and decides on top of it: a comment received before
    // the deadline is accepted after the closing, and chained to the version-1 event's own hash.
    await stack.startWriter();
    const late = await stack.client('THA').postComment(id, { body: 'received before the deadline', language: 'en' }, `v-${id}-2`);
    expect(late.status).toBe(201);
    const after = await streamOf(id);
    const next = after[after.length - 1]!;
    expect(next).toMatchObject({ type: 'consultation.comment-submitted', sequence: v1.sequence + 1, previousHash: v1.hash });

    const report = await verifyTopics({ kafka: stack.kafka, logger: stack.logger, topics: [stack.topics.consultationEvents] });
    expect(report.broken).toEqual([]);
    expect(report.events).toBeGreaterThanOrEqual(after.length);
  }, 120_000);
});
