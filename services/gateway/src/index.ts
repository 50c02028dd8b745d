export * from './app.js';
export * from './problems.js';
export { commentBodyHash } from './routes/comments.js';
export { statementBodyHash } from './routes/statements.js';
export type { CommandDispatcher, CommandRoute, Dispatched } from './command-bus.js';
export { CommentReceipt, NewCommentBody, IdParams, IdempotencyHeaders } from './schemas.js';
