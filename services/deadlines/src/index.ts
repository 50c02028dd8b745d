export * from './schedule.js';
export * from './deadline-service.js';
