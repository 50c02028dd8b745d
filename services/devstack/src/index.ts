export * from './demo.js';
export * from './wait-for-gateway.js';
