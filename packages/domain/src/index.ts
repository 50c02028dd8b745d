export * from './errors.js';
export * from './consultation.js';
