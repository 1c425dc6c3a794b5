/**
 * Every error answer keeps Fastify's body shape {statusCode, code, error, message}. Validation
 * messages name the field (as a JSON pointer into the body) and the rule; 5xx answers never leak
 * internals, they are logged instead.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { ErrorCode } from '../error-codes.js';
import { errorBody, sendError } from '../http/error-reply.js';
import { NO_NUL_PATTERN } from './schemas/common-schemas.js';

export class HttpError extends Error {
  readonly statusCode: number;
  readonly code: ErrorCode;
  readonly headers: Readonly<Record<string, string>>;

  constructor(statusCode: number, code: ErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.code = code;
    this.headers = headers;
  }
}

interface AjvError {
  readonly keyword: string;
  readonly instancePath: string;
  readonly params: Record<string, unknown>;
  readonly message?: string;
}

function where(dataVar: string, instancePath: string): string {
  return instancePath === '' ? dataVar : `${dataVar}${instancePath}`;
}

/** One readable sentence for the first Ajv error: which field, which rule. */
export function formatValidationError(errors: readonly AjvError[], dataVar: string): string {
  // if/then/else adds a summary error after the real one; the first error is the useful one.
  const error = errors.find((e) => e.keyword !== 'if') ?? errors[0];
  if (!error) return `${dataVar} is invalid`;
  const at = where(dataVar, error.instancePath);
  const p = error.params;
  if (error.keyword === 'pattern' && p.pattern === NO_NUL_PATTERN) {
    return `${at} must not contain the NUL character (U+0000)`;
  }
  switch (error.keyword) {
    case 'additionalProperties':
      return `${at} has unknown field "${String(p.additionalProperty)}"`;
    case 'required':
      return `${at} must have field "${String(p.missingProperty)}"`;
    case 'type':
      return `${at} must be ${String(p.type).replace(',', ' or ')}`;
    case 'enum':
      return `${at} must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'format':
      return `${at} must be a ${String(p.format)} (ISO 8601 with time zone, e.g. 2024-05-01T12:00:00Z)`;
    case 'maxItems':
      return `${at} must have at most ${String(p.limit)} items (the server's batch limit)`;
    case 'minItems':
      return `${at} must have at least ${String(p.limit)} item(s)`;
    default:
      return `${at} ${error.message ?? 'is invalid'}`;
  }
}

export function schemaErrorFormatter(errors: readonly AjvError[], dataVar: string): Error {
  return new Error(formatValidationError(errors, dataVar));
}

/**
 * The methods `path` has a route for (parametric and wildcard routes included), sorted; `candidates`
 * are the methods any route uses. HEAD comes with GET when Fastify exposes HEAD routes (its default).
 */
export function allowedMethods(
  app: FastifyInstance,
  candidates: ReadonlySet<string>,
  path: string,
): string[] {
  return [...new Set([...candidates, 'HEAD'])]
    .filter((method) => app.findRoute({ method: method as HTTPMethods, url: path }) !== null)
    .sort();
}

/**
 * Call before any route is added (the onRoute hook sees only routes added after it): a request with no
 * route answers 405 with `Allow` when its path has routes for other methods, 404 otherwise.
 */
export function installErrorHandler(app: FastifyInstance): void {
  const methods = new Set<string>();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) methods.add(method);
  });
  app.setErrorHandler((error: FastifyError | HttpError, request: FastifyRequest, reply: FastifyReply) => {
    const status =
      typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600
        ? error.statusCode
        : 500;
    if (status >= 500 && !(error instanceof HttpError)) {
      request.log.error({ err: error }, 'request failed');
      return sendError(reply, 500, 'CW_INTERNAL', 'internal error; the server log has the details');
    }
    if (status >= 500) request.log.warn({ code: error.code }, error.message);
    // Errors thrown by plugins or handlers may carry no code at all, whatever their type says.
    const code =
      (error.code as string | undefined) ??
      ('validation' in error && error.validation ? 'FST_ERR_VALIDATION' : 'CW_BAD_REQUEST');
    return reply
      .headers(error instanceof HttpError ? error.headers : {})
      .status(status)
      .send(errorBody(status, code, error.message));
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const allow = allowedMethods(app, methods, path);
    if (allow.length === 0)
      return sendError(reply, 404, 'CW_NOT_FOUND', `no route ${request.method} ${path}`);
    const list = allow.join(', ');
    return sendError(
      reply,
      405,
      'CW_METHOD_NOT_ALLOWED',
      `${request.method} is not allowed on ${path}; it accepts ${list}`,
      { allow: list },
    );
  });
}
