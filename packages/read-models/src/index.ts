export * from './consultations.js';
export * from './notifications.js';
