import { describe, expect, it } from 'vitest';
import { BatchingProducer, type ProducedRecord } from '@consult/kafka';
import { freshTopic, testKafka, testLogger } from '../../../tests/support/kafka.js';
import { ChainedStreams, type ChainedEvent, type CommandMeta } from './chained-streams.js';

type CountEvent = ChainedEvent & { data: { n: number } };

describe('ChainedStreams', () => {
  const kafka = testKafka();

  function streamsOn(topic: string): ChainedStreams<number, CountEvent> {
    return new ChainedStreams<number, CountEvent>({
      kafka,
      logger: testLogger,
      topic,
      source: 'test',
      decode: (raw) => JSON.parse(raw!.toString('utf8')) as CountEvent,
      encode: (event) => JSON.stringify(event),
      evolve: (state) => (state ?? 0) + 1,
    });
  }

  const command = (key: string, i: number): CommandMeta => ({
    id: `${key}-${i}`,
    type: 'count',
    key,
    correlationId: `${key}-${i}`,
    actor: { kind: 'system', id: 'test' } as unknown as CommandMeta['actor'],
  });

  /** Appends `count` events to `key`'s stream as its owner would, and commits them to the topic. */
  async function commit(topic: string, owner: ChainedStreams<number, CountEvent>, key: string, from: number, count: number): Promise<void> {
    const messages: ProducedRecord[] = [];
    for (let i = from; i < from + count; i++)
      messages.push({ ...owner.append(0, command(key, i), 0, { type: 'counted', data: { n: i } }, new Date().toISOString()).message, partition: 0 });
    const producer = new BatchingProducer(kafka, testLogger);
    await producer.connect();
    await producer.send(topic, messages);
    await producer.close();
  }

  it('catches a warmed-up partition up with what its previous owner committed since, reading only that', async () => {
    const topic = await freshTopic(kafka, 1);
    const previousOwner = streamsOn(topic);
    await previousOwner.load([0]);
    await commit(topic, previousOwner, 'k', 0, 50);

    const next = streamsOn(topic);
    next.warmUp();
    // The previous owner goes on deciding while the next one waits for its assignment.
    await commit(topic, previousOwner, 'k', 50, 7);
    const read = await next.load([0]);
    expect(next.sequence('k')).toBe(57);
    expect(next.state('k')).toBe(57);
    expect(read).toBeLessThanOrEqual(7);
  });

  it('reloads from the beginning a partition it appended to, forgetting events that never committed', async () => {
    const topic = await freshTopic(kafka, 1);
    const owner = streamsOn(topic);
    owner.warmUp();
    await owner.load([0]);
    await commit(topic, owner, 'k', 0, 20);
    owner.append(0, command('k', 99), 0, { type: 'counted', data: { n: 99 } }, new Date().toISOString());
    expect(owner.sequence('k')).toBe(21);
    // As after an aborted transaction: the appended event is not in Kafka.
    expect(await owner.load([0])).toBe(20);
    expect(owner.sequence('k')).toBe(20);
    expect(owner.state('k')).toBe(20);
  });
});
