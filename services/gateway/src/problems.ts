import type { CsoErrorCode, DomainErrorCode } from '@consult/domain';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { schemaMessage } from './text-rule.js';

/**
 * Every error the API returns is an RFC 9457 problem document with a stable `code`; the `type` URI resolves
 * to a short description at GET /problems/{code}.
 */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code: string;
  errors?: { path: string; message: string }[];
  [extension: string]: unknown;
}

interface ProblemKind {
  status: number;
  title: string;
}

export const PROBLEM_KINDS = {
  'validation-failed': { status: 400, title: 'The request does not match the schema' },
  'invalid-json': { status: 400, title: 'The body is not valid JSON' },
  'invalid-encoding': { status: 400, title: 'The body is not valid UTF-8' },
  'invalid-text': {
    status: 400,
    title: 'A text field holds a lone surrogate or a control character (only tab, line feed and carriage return are accepted)',
  },
  'idempotency-key-required': { status: 400, title: 'An Idempotency-Key header is required' },
  unauthorized: { status: 401, title: 'A valid API key is required' },
  forbidden: { status: 403, title: 'This principal may not do this' },
  'not-an-addressee': { status: 403, title: 'The member state is not an addressee of the consultation' },
  'not-comment-owner': { status: 403, title: 'The comment belongs to another member state' },
  'not-found': { status: 404, title: 'No such resource' },
  'consultation-not-found': { status: 404, title: 'No such consultation' },
  'comment-not-found': { status: 404, title: 'No such comment' },
  'command-not-found': { status: 404, title: 'No such command' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'consultation-exists': { status: 409, title: 'A consultation with this id already exists' },
  'consultation-closed': { status: 409, title: 'The consultation is closed: its deadline has passed' },
  'idempotency-key-reused': { status: 409, title: 'The Idempotency-Key was used with another request body' },
  'comment-withdrawn': { status: 409, title: 'The comment was withdrawn' },
  'deadline-not-reached': { status: 409, title: 'The deadline has not passed yet' },
  'reminder-stale': { status: 409, title: 'The reminder was scheduled for an earlier deadline' },
  'reminder-not-due': { status: 409, title: 'The reminder is not due yet' },
  'already-commented': { status: 409, title: 'The member state has comments: withdraw them before answering "no comments"' },
  'not-under-silence-procedure': { status: 409, title: 'The consultation was not circulated under silence procedure' },
  'invalid-documents': { status: 422, title: 'Each language once, and at most one document marked original' },
  'reset-needs-revision': { status: 422, title: 'Only a revised text (Rev.) resets the deadline or the silence' },
  'webhook-target-forbidden': { status: 400, title: 'The webhook URL points at a loopback, private, link-local or otherwise internal address' },
  'webhook-target-unresolvable': { status: 400, title: 'The webhook URL names a host that does not resolve' },
  'subscription-limit-reached': { status: 409, title: 'This principal has as many subscriptions as it may have; delete one first' },
  'event-stream-limit-reached': { status: 429, title: 'This principal has as many open event streams as it may have' },
  'rate-limited': { status: 429, title: 'Too many requests for this API key; retry after the time given in Retry-After' },
  'request-timeout': { status: 408, title: 'The request was not received in time' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'Only application/json is accepted' },
  'deadline-not-in-future': { status: 422, title: 'The deadline must be in the future' },
  'deadline-not-later': { status: 422, title: 'The new deadline must be later than the current one' },
  'unknown-member-state': { status: 422, title: 'Unknown ISO 3166-1 alpha-3 member-state code' },
  'cso-not-found': { status: 404, title: 'No such civil-society organisation' },
  'statement-not-found': { status: 404, title: 'No such statement' },
  'cso-not-accredited': { status: 403, title: 'The organisation is not accredited: its accreditation lapsed or was revoked' },
  'cso-exists': { status: 409, title: 'An organisation with this id already exists' },
  'cso-revoked': { status: 409, title: 'The accreditation was revoked' },
  'illegal-transition': { status: 409, title: 'The statement cannot make this transition from its current state' },
  'accreditation-not-in-future': { status: 422, title: 'accreditedUntil must be in the future' },
  'related-consultation-not-found': { status: 422, title: 'relatesTo names no consultation' },
  'malformed-command': { status: 400, title: 'The command does not match its contract; it was set aside (quarantined) and changed nothing' },
  'co-signer-invalid': { status: 422, title: 'A named co-signer is not an accredited organisation other than the author' },
  'not-a-co-signer': { status: 403, title: 'The statement does not name this organisation as a co-signer' },
  'attachment-too-large': { status: 413, title: 'The file is larger than the attachment limit (25 MiB)' },
  'attachment-type-not-allowed': { status: 415, title: 'The file is not a PDF, DOCX, ODT, PNG or JPEG (judged by its content)' },
  'attachment-digest-mismatch': { status: 422, title: 'The bytes received do not have the SHA-256 the request names' },
  'attachment-unknown': { status: 422, title: 'No uploaded file has this SHA-256 (upload it first with POST /v1/attachments)' },
  'attachment-not-found': { status: 404, title: 'No such attachment on this item' },
  'service-unavailable': { status: 503, title: 'The service cannot take requests right now; retry later' },
  internal: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, ProblemKind> & Record<DomainErrorCode, ProblemKind> & Record<CsoErrorCode, ProblemKind>;

export type ProblemCode = keyof typeof PROBLEM_KINDS;

export class HttpProblem extends Error {
  readonly status: number;
  constructor(
    readonly code: ProblemCode,
    readonly detail?: string,
    readonly extensions: Record<string, unknown> = {},
    /** Sent as Retry-After (429, 503); 503 without one gets a default. */
    readonly retryAfterSeconds?: number,
  ) {
    super(detail ?? PROBLEM_KINDS[code].title);
    this.name = 'HttpProblem';
    this.status = PROBLEM_KINDS[code].status;
  }

  toDocument(instance?: string): ProblemDocument {
    const doc: ProblemDocument = {
      type: `/problems/${this.code}`,
      title: PROBLEM_KINDS[this.code].title,
      status: this.status,
      code: this.code,
      ...this.extensions,
    };
    if (this.detail) doc.detail = this.detail;
    if (instance) doc.instance = instance;
    return doc;
  }
}

export function isProblemCode(code: string): code is ProblemCode {
  return Object.hasOwn(PROBLEM_KINDS, code);
}

/** Seconds a client should wait before retrying after a 503 that names no time of its own. */
export const DEFAULT_RETRY_AFTER_SECONDS = 1;

export function sendProblem(reply: FastifyReply, problem: HttpProblem, instance?: string): FastifyReply {
  // A 503 is passing (a dependency restarting, a directory rebuilding), a 429 has its window: say when to come back.
  const retryAfter = problem.retryAfterSeconds ?? (problem.status === 503 ? DEFAULT_RETRY_AFTER_SECONDS : undefined);
  if (retryAfter !== undefined && !reply.hasHeader('retry-after')) reply.header('retry-after', String(retryAfter));
  return reply.code(problem.status).type('application/problem+json').send(problem.toDocument(instance));
}

/** Maps framework errors (validation, body parsing, limits) and our problems to problem documents. */
export function problemFromError(error: FastifyError | HttpProblem | Error): HttpProblem {
  if (error instanceof HttpProblem) return error;
  const fe = error as FastifyError;
  if (fe.validation) {
    const errors = fe.validation.map((v) => ({
      path: `${fe.validationContext ?? 'body'}${v.instancePath || ''}`,
      message:
        v.keyword === 'additionalProperties'
          ? `unknown field '${String((v.params as { additionalProperty?: string }).additionalProperty)}'`
          : schemaMessage(v.keyword, v.params, v.message ?? 'is invalid'),
    }));
    return new HttpProblem('validation-failed', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpProblem('payload-too-large', fe.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpProblem('unsupported-media-type', fe.message);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HttpProblem('invalid-json', fe.message);
  }
  if (fe.statusCode === 400 && (error instanceof SyntaxError || error.name === 'SyntaxError'))
    return new HttpProblem('invalid-json', error.message);
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500)
    return new HttpProblem(fe.statusCode === 404 ? 'not-found' : 'validation-failed', fe.message);
  if (isUnavailable(error))
    return new HttpProblem('service-unavailable', 'a dependency (Redis or Kafka) is restarting; nothing was changed, retry shortly');
  return new HttpProblem('internal');
}

/** Redis or Kafka out of reach (restarting, failing over): a passing condition, so 503, never 500. */
function isUnavailable(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    error.name.startsWith('KafkaJS') ||
    /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|ETIMEDOUT/.test(error.message) ||
    (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code))
  );
}

export function errorHandler(
  this: unknown,
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const problem = problemFromError(error);
  // A 503 is the system saying "not now" (Kafka unreachable, a key directory being rebuilt): worth a warning,
  // without a stack per request during an outage. Any other 5xx is a defect, logged as an error.
  if (problem.status === 503) request.log.warn({ code: problem.code, detail: problem.detail }, 'request refused: service unavailable');
  else if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
  return sendProblem(reply, problem, request.url);
}
