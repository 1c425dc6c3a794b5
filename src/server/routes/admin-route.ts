/**
 * POST /admin/reload: load a model and swap it in without dropping requests. Protected by a Bearer
 * token (CHURNWATCH_ADMIN_TOKEN); without a configured token the route answers 404, so a server
 * started without one exposes no admin surface at all.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../app-context.js';
import { HttpError } from '../error-handler.js';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function authorize(request: FastifyRequest, token: string | undefined): void {
  if (!token)
    throw new HttpError(
      404,
      'CW_ADMIN_DISABLED',
      'admin routes are disabled (CHURNWATCH_ADMIN_TOKEN is not set)',
    );
  const header = request.headers.authorization;
  if (!header) {
    throw new HttpError(401, 'CW_ADMIN_UNAUTHORIZED', 'missing Authorization: Bearer <token> header', {
      'www-authenticate': 'Bearer',
    });
  }
  const match = /^Bearer\s+(.+)$/i.exec(header);
  // Compare digests: equal length, constant time, whatever the client sent.
  if (!match || !timingSafeEqual(digest(match[1]!.trim()), digest(token))) {
    throw new HttpError(403, 'CW_ADMIN_FORBIDDEN', 'the admin token is wrong');
  }
}

export function registerAdminRoute(app: FastifyInstance, ctx: AppContext): void {
  app.post(
    '/admin/reload',
    {
      schema: {
        summary: 'Reload the model (default: the --model path, re-resolved)',
        tags: ['operations'],
        security: [{ bearerAuth: [] }],
        body: {
          type: ['object', 'null'],
          properties: { path: { type: 'string', minLength: 1, maxLength: 4096 } },
          additionalProperties: false,
        },
      },
      preValidation: async (request) => authorize(request, ctx.config.adminToken),
    },
    async (request) => {
      const body = request.body as { path?: string } | null | undefined;
      try {
        const { previous, current } = await ctx.reload(body?.path);
        return {
          status: 'reloaded',
          previous_version: previous ?? null,
          model_version: current.model.info.version,
          path: current.path ?? null,
        };
      } catch (error) {
        if (error instanceof HttpError) throw error; // a refusal with its own code (another schema)
        const message = error instanceof Error ? error.message : String(error);
        throw new HttpError(422, 'CW_RELOAD_FAILED', `reload failed, the previous model stays: ${message}`);
      }
    },
  );
}
