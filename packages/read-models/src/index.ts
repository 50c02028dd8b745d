export * from './consultations.js';
export * from './statements.js';
export * from './notifications.js';
export * from './projection.js';
export * from './layout.js';
