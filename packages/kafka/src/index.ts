export * from './client.js';
export * from './topics.js';
export * from './batching-producer.js';
export * from './partition-reader.js';
export * from './transactional-processor.js';
export * from './sizing.js';
export * from './checkpointed-consumer.js';
export * from './retriable.js';
export type { KafkaMessage, Message, TopicMessages, Consumer, Producer, IHeaders } from 'kafkajs';
