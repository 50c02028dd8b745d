export * from './config.js';
export * from './logger.js';
export * from './lifecycle.js';
export * from './clock.js';
export * from './kafka-security.js';
