import { projectorGroupId, type TopicNames } from '@consult/contracts';
import type { Logger } from '@consult/config';
import { BatchingProducer, type KafkaClient } from '@consult/kafka';
import { ReadModelProjection, type ProjectedRecord } from '@consult/read-models';
import { KeySpace, RedisOffsetStore, type RedisClient } from '@consult/redis';
import { Quarantine, RedisProjection } from '@consult/streams';

export type { ProjectionNotice } from '@consult/read-models';

export interface ProjectorOptions {
  kafka: KafkaClient;
  redis: RedisClient;
  logger: Logger;
  topics: TopicNames;
  keyPrefix: string;
  groupId?: string;
}

/**
 * Turns events, outcomes and API keys into the Redis read models (`ReadModelProjection`), exactly once per
 * batch and rebuilt by itself after a flush (`RedisProjection`), and announces each applied batch on the
 * `projected` channel for gateways waiting to answer read-your-write.
 */
export class Projector {
  private readonly projection: RedisProjection<ProjectedRecord>;
  private readonly producer: BatchingProducer;

  constructor(options: ProjectorOptions) {
    const definition = new ReadModelProjection(options.topics, new KeySpace(options.keyPrefix));
    const groupId = options.groupId ?? projectorGroupId(options.topics, options.keyPrefix);
    this.producer = new BatchingProducer(options.kafka, options.logger);
    this.projection = new RedisProjection<ProjectedRecord>({
      kafka: options.kafka,
      redis: options.redis,
      logger: options.logger,
      groupId,
      topics: definition.topics,
      offsets: new RedisOffsetStore(new KeySpace(options.keyPrefix), 'projector', definition.offsetLayout),
      quarantine: new Quarantine(this.producer, options.topics.quarantine, groupId, options.logger),
      decode: (topic, message) => definition.decode(topic, message.value),
      project: (commands, topic, partition, records) => {
        const notice = definition.project(
          commands,
          records.map((r) => r.value),
          definition.tagOf(topic, partition),
        );
        commands.publish(definition.consultations.projectedChannel, JSON.stringify(notice));
      },
      // Answer fetches at once: the projector is the last hop before a waiting request is answered.
      maxWaitTimeInMs: 100,
    });
  }

  get eventsApplied(): number {
    return this.projection.recordsApplied;
  }

  /** Resolves once partitions were first assigned and the consumer positioned on the stored offsets. */
  get assigned(): Promise<void> {
    return this.projection.assigned;
  }

  async start(): Promise<void> {
    await this.producer.connect();
    await this.projection.start();
  }

  async stop(): Promise<void> {
    await this.projection.stop();
    await this.producer.close();
  }
}
