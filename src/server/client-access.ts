/**
 * Puts the configured client checks (Bearer token, then rate limit) in front of the client routes,
 * before each route's own hooks (so /predict's wait for queue room never holds an unauthenticated
 * request). Nothing is registered when neither is configured: the default server runs no hook and no
 * `if` per request for them. Call before the routes are added: an onRoute hook sees only later routes.
 */
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { ClientAccessConfig } from './client-access-config.js';
import { createClientAuth } from './client-auth.js';
import { createRateLimitHook } from './rate-limit.js';

export async function installClientAccess(
  app: FastifyInstance,
  config: ClientAccessConfig,
  paths: readonly string[],
): Promise<void> {
  const auth = config.apiTokens.length > 0 ? createClientAuth(config.apiTokens) : undefined;
  const hooks: onRequestHookHandler[] = auth ? [auth.hook] : [];
  if (config.rateLimit) {
    const clientOf = auth ? auth.clientOf : () => undefined;
    hooks.push((await createRateLimitHook(app, config.rateLimit, clientOf)) as onRequestHookHandler);
  }
  if (hooks.length === 0) return;
  const protectedPaths = new Set(paths);
  app.addHook('onRoute', (route) => {
    if (!protectedPaths.has(route.url)) return;
    route.onRequest = [...hooks, ...[route.onRequest ?? []].flat()];
    // The OpenAPI page shows the lock and lets /docs send the token.
    if (auth) route.schema = { ...route.schema, security: [{ bearerAuth: [] }] };
  });
}
