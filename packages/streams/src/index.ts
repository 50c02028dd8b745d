export * from './chained-streams.js';
