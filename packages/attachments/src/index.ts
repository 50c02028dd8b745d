export * from './media-types.js';
export * from './store.js';
export * from './directory-store.js';
export * from './s3-store.js';
export * from './upload.js';
export * from './configured.js';
