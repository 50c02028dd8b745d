export * from './errors.js';
export * from './consultation.js';
export * from './statements.js';
export * from './as-of.js';
export * from './statement-as-of.js';
