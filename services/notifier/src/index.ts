export * from './backoff.js';
export * from './signature.js';
export * from './directory.js';
export * from './projector.js';
export * from './router.js';
export * from './worker.js';
export * from './notifier.js';
export * from './config.js';
