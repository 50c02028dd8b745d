export * from './app.js';
export * from './problems.js';
export { commentBodyHash } from './routes/comments.js';
export { statementBodyHash } from './routes/statements.js';
