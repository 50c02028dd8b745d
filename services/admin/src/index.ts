export * from './keys.js';
export * from './cli.js';
