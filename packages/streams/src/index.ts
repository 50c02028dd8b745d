export * from './chained-streams.js';
export * from './quarantine.js';
export * from './redis-projection.js';
export * from './malformed-command.js';
export * from './single-writer.js';
