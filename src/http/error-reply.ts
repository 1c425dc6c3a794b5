/**
 * The one shape of every error answer, Fastify's {statusCode, code, error, message}, for the server's
 * routes and error handler and for the dashboard's routes alike (so the dashboard needs nothing from
 * server/).
 */
import type { FastifyReply } from 'fastify';
import type { ErrorCode } from '../error-codes.js';

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Fastify's error body, the shape of every error answer. */
export interface ErrorBody {
  readonly statusCode: number;
  readonly code: string;
  readonly error: string;
  readonly message: string;
}

/** `code` is a string for the codes of Fastify and its plugins (`FST_ERR_…`) the error handler forwards. */
export function errorBody(status: number, code: string, message: string): ErrorBody {
  return { statusCode: status, code, error: STATUS_TEXT[status] ?? 'Error', message };
}

/**
 * Sends an error answer in the shape every error answer has, for routes that answer an error without
 * throwing: hot paths (an Error captures a stack trace; a full queue refuses thousands of requests a
 * second) and expected states (/readyz before a model is loaded).
 */
export function sendError(
  reply: FastifyReply,
  status: number,
  code: ErrorCode,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): FastifyReply {
  return reply
    .headers(headers)
    .status(status)
    .send(errorBody(status, code, message));
}
