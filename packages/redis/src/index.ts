export * from './client.js';
export * from './redis-url.js';
export * from './offsets.js';
export * from './cluster-binding.js';
export * from './coalescing-multi.js';
export * from './slots.js';
