/** GET /metrics: the Prometheus exposition of the server's own registry. */
import type { FastifyInstance } from 'fastify';
import { renderExposition } from '../../metrics/exposition.js';
import type { AppContext } from '../app-context.js';

export function registerMetricsRoute(app: FastifyInstance, ctx: AppContext): void {
  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics (text exposition format)', tags: ['operations'] } },
    async (_request, reply) => {
      const registry = ctx.metrics.registry;
      const text = await renderExposition(registry);
      return reply.header('content-type', registry.contentType).send(text);
    },
  );
}
