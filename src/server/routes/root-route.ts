/**
 * GET /: where to go from here, for whoever opens the server's bare URL. A browser (Accept naming
 * text/html) is redirected (302) to the dashboard; any other client gets JSON: the server's name and
 * version, the served model, and the paths of its pages and routes.
 */
import type { FastifyInstance } from 'fastify';
import { CHURNWATCH_VERSION } from '../../version.js';
import type { AppContext } from '../app-context.js';

export function registerRootRoute(app: FastifyInstance, ctx: AppContext, docs: boolean): void {
  const links = {
    dashboard: '/dashboard',
    ...(docs ? { docs: '/docs', openapi: '/docs/json' } : {}),
    metrics: '/metrics',
    model: '/model',
    health: '/healthz',
    ready: '/readyz',
    predict: '/predict',
    feedback: '/feedback',
  };
  app.get(
    '/',
    {
      schema: {
        summary: 'Links to the dashboard, docs and routes (a browser is redirected to /dashboard)',
        tags: ['operations'],
      },
    },
    async (request, reply) => {
      reply.header('vary', 'accept');
      if (/\btext\/html\b/i.test(request.headers.accept ?? '')) return reply.redirect('/dashboard', 302);
      return {
        name: 'churnwatch',
        version: CHURNWATCH_VERSION,
        model: ctx.models.current?.model.info.version ?? null,
        links,
      };
    },
  );
}
