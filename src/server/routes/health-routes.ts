/**
 * GET /healthz (the process answers) and GET /readyz (a model is loaded and predictions can be logged:
 * the writer's last write did not fail, its queue has room, and the store answers). A replica that
 * would refuse /predict with 503 is taken out of the load balancer's rotation until it recovers.
 */
import type { FastifyInstance } from 'fastify';
import { sendError } from '../../http/error-reply.js';
import type { AppContext } from '../app-context.js';

const PING_TIMEOUT_MS = 2000;

async function pingWithTimeout(ping: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ping(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${PING_TIMEOUT_MS} ms`)),
          PING_TIMEOUT_MS,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function registerHealthRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get(
    '/healthz',
    { schema: { summary: 'Liveness: the process answers', tags: ['operations'] } },
    async () => ({
      status: 'ok',
    }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary:
          'Readiness: a model is loaded, the prediction log is written and has room, the store answers',
        tags: ['operations'],
      },
    },
    async (request, reply) => {
      const loaded = ctx.models.current;
      if (!loaded) {
        return sendError(reply, 503, 'CW_NOT_READY', 'no model is loaded');
      }
      const kind = ctx.store.kind;
      const failure = ctx.writeFailure();
      if (failure !== undefined) {
        return sendError(
          reply,
          503,
          'CW_NOT_READY',
          `the prediction log cannot be written to the ${kind} store (${ctx.writer.size} predictions queued, retrying): ${failure}`,
        );
      }
      if (!ctx.writer.hasRoom(1)) {
        return sendError(
          reply,
          503,
          'CW_NOT_READY',
          `the prediction log queue is full (${ctx.writer.size} predictions waiting for the ${kind} store); /predict answers 503`,
        );
      }
      try {
        await pingWithTimeout(() => ctx.store.ping());
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        request.log.warn({ store: kind, reason }, 'store not ready');
        return sendError(reply, 503, 'CW_NOT_READY', `the ${kind} store does not answer: ${reason}`);
      }
      return { status: 'ready', model_version: loaded.model.info.version, store: ctx.store.kind };
    },
  );
}
