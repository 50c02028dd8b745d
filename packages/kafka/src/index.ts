export * from './client.js';
export * from './topics.js';
export * from './topic-check.js';
export * from './batching-producer.js';
export * from './partition-reader.js';
export * from './transactional-processor.js';
export * from './sizing.js';
export * from './checkpointed-consumer.js';
export * from './retriable.js';
export * from './bulk.js';
// The record shapes services read and write (kafkajs' own consumers and producers stay inside this package).
export type { KafkaMessage, Message, TopicMessages } from 'kafkajs';
export * from './watched-consumer.js';
export * from './cluster-view.js';
