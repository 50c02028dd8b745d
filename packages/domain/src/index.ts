export * from './errors.js';
export * from './consultation.js';
export * from './as-of.js';
