import { Partitioners, type Kafka, type ProducerConfig } from 'kafkajs';
import type { KafkaClient } from './client.js';

/**
 * The kafkajs client behind each KafkaClient. Only this package's modules import this file (the index does not
 * export it): the rest of the project holds a KafkaClient and never a kafkajs object.
 */
const kafkajsClients = new WeakMap<KafkaClient, Kafka>();

export function registerKafkajs(client: KafkaClient, kafka: Kafka): KafkaClient {
  kafkajsClients.set(client, kafka);
  return client;
}

export function kafkajsOf(client: KafkaClient): Kafka {
  const kafka = kafkajsClients.get(client);
  if (!kafka) throw new TypeError('not a KafkaClient made by createKafka');
  return kafka;
}

/**
 * Settings every producer of the project shares: kafkajs 2's default (Java-compatible murmur2) partitioner,
 * chosen explicitly, so a key lands on the same partition whichever client produced it.
 */
export const PRODUCER_DEFAULTS: ProducerConfig = {
  createPartitioner: Partitioners.DefaultPartitioner,
  allowAutoTopicCreation: false,
};
