/**
 * Bearer-token authentication of the client routes. Several tokens are accepted at once, so a token
 * can be rotated without downtime (add the new one, move the clients, remove the old one). Every
 * configured token is compared, in constant time, with what the client sent (as admin-route.ts
 * compares the admin token): the answer time says nothing about how close a guess was, nor which
 * token matched.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { sendError } from '../http/error-reply.js';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The 1-based position of the matching token, or 0; compares against every token whatever matches. */
export function tokenIndex(presented: string, digests: readonly Buffer[]): number {
  const given = digest(presented);
  let found = 0;
  for (let i = 0; i < digests.length; i++) {
    if (timingSafeEqual(given, digests[i]!) && found === 0) found = i + 1;
  }
  return found;
}

const BEARER = /^Bearer[ ]+(\S+)\s*$/i;

export interface ClientAuth {
  /** onRequest hook: 401 (CW_CLIENT_UNAUTHORIZED, `WWW-Authenticate: Bearer`) unless a token matches. */
  readonly hook: (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;
  /** Who the hook let in (`token-2`: the second token configured), for the rate limit's key. */
  clientOf(request: FastifyRequest): string | undefined;
}

export function createClientAuth(tokens: readonly string[]): ClientAuth {
  if (tokens.length === 0) throw new RangeError('client authentication needs at least one token');
  const digests = tokens.map(digest);
  const clients = new WeakMap<FastifyRequest, string>();
  return {
    // A callback and no throw: a flood of bad tokens costs no promise and no stack trace per request.
    hook(request, reply, done) {
      const header = request.headers.authorization;
      if (header === undefined) {
        sendError(reply, 401, 'CW_CLIENT_UNAUTHORIZED', 'missing Authorization: Bearer <token> header', {
          'www-authenticate': 'Bearer',
        });
        return;
      }
      const match = BEARER.exec(header);
      const index = match ? tokenIndex(match[1]!, digests) : 0;
      if (index === 0) {
        sendError(reply, 401, 'CW_CLIENT_UNAUTHORIZED', 'the Bearer token is not one this server accepts', {
          'www-authenticate': 'Bearer error="invalid_token"',
        });
        return;
      }
      clients.set(request, `token-${index}`);
      done();
    },
    clientOf: (request) => clients.get(request),
  };
}
