export * from './consultations.js';
export * from './statements.js';
