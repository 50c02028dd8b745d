export * from './client.js';
export * from './offsets.js';
