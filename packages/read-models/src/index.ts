export * from './consultations.js';
