export * from './projector.js';
