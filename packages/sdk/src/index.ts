export * from './client.js';
export * from './more.js';
export * from './attachments.js';
