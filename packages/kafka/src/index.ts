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
// The record shapes services read and write: the package's own (kafkajs and its types stay inside it).
export * from './records.js';
export * from './watched-consumer.js';
export * from './cluster-view.js';
