export * from './progress.js';
export * from './format.js';
export * from './csv.js';
export * from './labels.js';
export { reportToPdf } from './pdf.js';
