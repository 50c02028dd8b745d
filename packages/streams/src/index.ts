export * from './chained-streams.js';
export * from './quarantine.js';
export * from './redis-projection.js';
export * from './malformed-command.js';
