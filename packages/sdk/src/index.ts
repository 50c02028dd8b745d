export * from './client.js';
export * from './more.js';
