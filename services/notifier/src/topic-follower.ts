import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka, KafkaMessage } from '@consult/kafka';

/**
 * Follows a small topic from its beginning in every process (a throw-away group, no commits): for state each
 * notifier needs whole, such as data keys and key revocations.
 */
export class TopicFollower {
  private consumer: Consumer | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly onMessage: (message: KafkaMessage) => void,
  ) {}

  async start(): Promise<void> {
    this.consumer = this.kafka.consumer({ groupId: `${this.topic}.notifier-${randomUUID()}`, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({ autoCommit: false, eachMessage: async ({ message }) => this.onMessage(message) });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}
