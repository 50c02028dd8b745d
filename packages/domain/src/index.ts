export * from './errors.js';
export * from './consultation.js';
export * from './diplomatic-practice.js';
export * from './languages.js';
export * from './time-zones.js';
export * from './statements.js';
export * from './as-of.js';
export * from './statement-as-of.js';
