/**
 * The per-client rate limit of the client routes, with @fastify/rate-limit: a fixed window per client,
 * in this process's memory (each replica counts its own clients; behind N replicas a client gets up to
 * N × the limit). Over the limit: 429 CW_CLIENT_RATE_LIMITED with Retry-After (whole seconds).
 */
import rateLimitPlugin from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { RateLimit } from './client-access-config.js';
import { HttpError } from './error-handler.js';

function describeWindow(windowMs: number): string {
  return windowMs % 60_000 === 0 ? `${windowMs / 60_000} min` : `${windowMs / 1000} s`;
}

/**
 * Registers the plugin for no route of its own and returns the onRequest hook to put on the client
 * routes. `clientOf` names the client (the token), else the client's IP address is the key.
 */
export async function createRateLimitHook(
  app: FastifyInstance,
  limit: RateLimit,
  clientOf: (request: FastifyRequest) => string | undefined,
): Promise<onRequestAsyncHookHandler> {
  await app.register(rateLimitPlugin, { global: false });
  const per = describeWindow(limit.windowMs);
  return app.rateLimit({
    max: limit.max,
    timeWindow: limit.windowMs,
    keyGenerator: (request) => clientOf(request) ?? `ip-${request.ip}`,
    errorResponseBuilder: (_request, context) =>
      new HttpError(
        429,
        'CW_CLIENT_RATE_LIMITED',
        `rate limit of ${context.max} requests per ${per} reached; retry in ${context.after}`,
      ),
  }) as onRequestAsyncHookHandler;
}
