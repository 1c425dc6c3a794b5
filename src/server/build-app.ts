/**
 * Builds the HTTP API (never listens: `serve` and the tests decide how to run it). Everything the
 * app depends on is passed in: the store, the model (or how to load one), a registry, a clock.
 */

import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import type { Registry } from 'prom-client';
import { asDashboardMonitor, dashboardRoutes } from '../dashboard/dashboard-routes.js';
import { type DatasetSchema, EXPRESSO_SCHEMA } from '../data/dataset-schema.js';
import { createMetrics, type ServerMetrics } from '../metrics/create-metrics.js';
import type { ChurnModel } from '../model/churn-model.js';
import type { PredictionObserver } from '../monitor/prediction-observer.js';
import type { DroppedPredictions, PredictionStore } from '../store/prediction-store.js';
import { CHURNWATCH_VERSION } from '../version.js';
import type { AppContext, LoadedModel, PredictionWriter } from './app-context.js';
import { installClientAccess } from './client-access.js';
import { DEFAULT_SERVE_CONFIG, headersTimeoutOf, type ServeConfig } from './config.js';
import { HttpError, installErrorHandler, schemaErrorFormatter } from './error-handler.js';
import { installJsonBodyParser } from './json-body.js';
import { createPredictionIdGenerator } from './prediction-id.js';
import { recordFieldsOf } from './record-fields.js';
import { registerAdminRoute } from './routes/admin-route.js';
import { registerFeedbackRoute } from './routes/feedback-route.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { registerLogRoute, registerNoScorerPredictRoute } from './routes/log-route.js';
import { registerMetricsRoute } from './routes/metrics-route.js';
import { keptCategories, registerModelRoute } from './routes/model-route.js';
import { registerPredictRoute } from './routes/predict-route.js';
import { registerRootRoute } from './routes/root-route.js';
import { schemaChanges } from './schema-change.js';
import { ErrorBody } from './schemas/common-schemas.js';
import {
  FeedbackResponse,
  FeedbackResult,
  feedbackBodyDocSchema,
  feedbackItemSchema,
} from './schemas/feedback-schemas.js';
import { LOG_RECORD_ID, LogResponse, logRecordSchema } from './schemas/log-schemas.js';
import {
  customerRecordSchema,
  Prediction,
  PredictResponse,
  predictBodyDocSchema,
} from './schemas/predict-schemas.js';

export interface WriterHooks {
  onFlush(records: number, seconds: number): void;
  onError(error: unknown): void;
}

export interface BuildAppOptions {
  readonly store: PredictionStore;
  /** The model to serve from the start; without one, /predict and /readyz answer 503 until a reload. */
  readonly model?: ChurnModel;
  /**
   * The schema the API accepts when built without a model (default Expresso's); with one, the model's.
   * A reload to a model of another schema is refused (schema-change.ts).
   */
  readonly schema?: DatasetSchema;
  /** Loads a model artifact directory (the model module's loadModel); needed for /admin/reload. */
  readonly loadModel?: (path: string) => Promise<ChurnModel>;
  /** Creates the batched prediction writer over the store (the store module's createBatchedWriter). */
  readonly createWriter: (
    store: PredictionStore,
    options: { maxQueue: number; flushIntervalMs: number; maxBatch: number } & WriterHooks,
  ) => PredictionWriter;
  readonly config?: Partial<ServeConfig>;
  /** A pino logger instance, or false for none (tests). */
  readonly logger?: FastifyServerOptions['loggerInstance'] | false;
  /**
   * One "request completed" line per request (method, url, status, time) at debug, so a server at the
   * default level (info) prints none; default true.
   */
  readonly logRequests?: boolean;
  readonly observer?: PredictionObserver;
  readonly registry?: Registry;
  readonly clock?: () => number;
  readonly newId?: () => string;
  /** Serve the OpenAPI page at /docs (default true). */
  readonly docs?: boolean;
  /**
   * Periodic join of late feedback, cap and expiry, and retention (default true; tests may call
   * joinPendingNow() and retainNow()).
   */
  readonly periodicJoin?: boolean;
}

/** Handles the server process needs beyond the routes. */
export interface ChurnwatchControls {
  readonly context: AppContext;
  readonly metrics: ServerMetrics;
  /**
   * Joins the pending feedback that predictions written since could match, then drops the expired and
   * the oldest beyond the cap (the periodic job calls this); returns how many joined.
   */
  joinPendingNow(): Promise<number>;
  /**
   * Retention: deletes the predictions made before now minus config.retention, with the feedback
   * resolved to them (the periodic job calls this); nothing when retention is off.
   */
  retainNow(): Promise<DroppedPredictions>;
}

declare module 'fastify' {
  interface FastifyInstance {
    churnwatch: ChurnwatchControls;
  }
}

export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const config: ServeConfig = { ...DEFAULT_SERVE_CONFIG, ...options.config };
  const logger = options.logger;
  const app = Fastify({
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    // Fastify writes two lines per request through a child logger made per request; one line from
    // the onResponse hook below says the same at about half the cost (docs/api.md).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimit,
    // Requests ids from the client are not trusted; ours are short and sequential.
    requestIdHeader: false,
    ajv: {
      // No coercion ("1" stays a string and is refused), no silent removal of unknown fields.
      customOptions: {
        coerceTypes: false,
        removeAdditional: false,
        allErrors: false,
        useDefaults: false,
        allowUnionTypes: true,
      },
    },
    schemaErrorFormatter,
    return503OnClosing: true,
    // Node answers 408 and closes the connection when a request's headers (headersTimeout) or the
    // whole request (requestTimeout) have not arrived in time; counted below. connectionTimeout (an
    // idle socket with no answer) stays off: these two bound the receiving, keepAliveTimeout the idle
    // wait between requests, and a handler that takes long must not lose its connection.
    requestTimeout: config.requestTimeout,
    keepAliveTimeout: config.keepAliveTimeout,
    http: {
      headersTimeout: headersTimeoutOf(config),
      // Node checks the two timeouts on this period (default 30 s, which would let a 30 s timeout
      // fire after up to 60 s); a quarter of the shorter one keeps the cut-off within 25 % of it.
      connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(headersTimeoutOf(config) / 4))),
    },
  });
  // Only JSON bodies: text/plain would otherwise reach the schema as a string and get a 400, not a 415.
  app.removeContentTypeParser('text/plain');
  installJsonBodyParser(app);

  const clock = options.clock ?? Date.now;
  const metrics = createMetrics({
    storeKind: options.store.kind,
    ...(options.registry ? { registry: options.registry } : {}),
  });
  // Set by a failed write, cleared by the next one that succeeds (the writer retries the same batch).
  let writeFailure: string | undefined;
  const writer = options.createWriter(options.store, {
    maxQueue: config.maxQueue,
    flushIntervalMs: config.flushIntervalMs,
    maxBatch: config.maxWriteBatch,
    onFlush: (_records, seconds) => {
      writeFailure = undefined;
      metrics.observeStoreFlush(seconds);
    },
    onError: (error) => {
      writeFailure = error instanceof Error ? error.message : String(error);
      metrics.observeStoreWriteError();
      app.log.error({ err: error }, 'prediction log write failed; the batch will be retried');
    },
  });
  // Fastify's own clientError listener writes the 408; this one counts it. Node 20 reports both the
  // headers and the request timeout as ERR_HTTP_REQUEST_TIMEOUT (checked by server-timeouts.test.ts).
  app.server.on('clientError', (error: NodeJS.ErrnoException) => {
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') metrics.observeRequestTimeout();
  });
  metrics.setSources({
    queueLength: () => writer.size,
    pendingFeedback: async () => {
      const { count, oldestReceivedAt } = await options.store.pendingStats();
      const ageMs = oldestReceivedAt === null ? 0 : Math.max(0, clock() - oldestReceivedAt);
      return { count, oldestAgeSeconds: ageMs / 1000 };
    },
    storeStats: () => options.store.storeStats(),
    retentionMs: () => config.retention,
  });

  // The request schema is compiled once, from the model served at start.
  const servedSchema = options.model?.schema ?? options.schema ?? EXPRESSO_SCHEMA;
  const fields = recordFieldsOf(servedSchema);
  // A server of a `churnwatch profile` artifact only monitors (POST /log); it stays one (reload below).
  const monitorOnly = options.model?.monitorOnly === true;
  const models: { current: LoadedModel | undefined } = { current: undefined };
  const load = (model: ChurnModel, path: string | undefined): LoadedModel => ({
    model,
    recorder: metrics.useModel(model),
    path,
    loadedAt: clock(),
  });
  if (options.model) models.current = load(options.model, config.modelPath);

  let reloading: Promise<unknown> = Promise.resolve();
  const context: AppContext = {
    config,
    models,
    store: options.store,
    writer,
    writeFailure: () => writeFailure,
    metrics,
    observer: options.observer,
    clock,
    newId: options.newId ?? createPredictionIdGenerator(),
    reload(path) {
      const run = async () => {
        if (!options.loadModel) throw new Error('this server was built without a model loader');
        const target = path ?? config.modelPath;
        let model: ChurnModel;
        try {
          model = await options.loadModel(target);
        } catch (error) {
          metrics.observeReload('failure');
          throw error;
        }
        const changes = schemaChanges(servedSchema, model.schema);
        if (changes.length > 0) {
          metrics.observeReload('failure');
          throw new HttpError(
            409,
            'CW_ADMIN_RELOAD_SCHEMA_CHANGED',
            `the model at ${target} has another schema than the one served (${changes.join('; ')}); restart the server on it instead, the previous model stays`,
          );
        }
        if ((model.monitorOnly === true) !== monitorOnly) {
          metrics.observeReload('failure');
          throw new HttpError(
            409,
            'CW_ADMIN_RELOAD_KIND_CHANGED',
            `the model at ${target} ${monitorOnly ? 'scores' : 'cannot score (churnwatch profile)'}, unlike the one served; restart the server on it instead, the previous model stays`,
          );
        }
        const previous = models.current?.model.info.version;
        // One assignment: requests that already read models.current finish with the old model.
        const current = load(model, target);
        models.current = current;
        metrics.observeReload('success');
        app.log.info({ previous, current: model.info.version, path: target }, 'model reloaded');
        return { previous, current };
      };
      const result = reloading.then(run, run);
      reloading = result.catch(() => undefined);
      return result;
    },
  };
  options.observer?.registerMetrics?.(metrics.registry, () => models.current?.model);

  let joining: Promise<number> | undefined;
  const joinPendingNow = (): Promise<number> => {
    joining ??= (async () => {
      try {
        await writer.flush();
        const { outcomes, tried } = await options.store.joinPending();
        metrics.observeFeedback(outcomes, false);
        if (outcomes.length > 0) options.observer?.observeFeedback(outcomes);
        // After the join, so an item whose prediction just arrived is joined, not dropped.
        const dropped = await options.store.dropPending({
          max: config.pendingFeedbackMax,
          receivedBefore: clock() - config.pendingFeedbackTtl,
        });
        metrics.observePendingUpkeep(tried, dropped);
        if (dropped.cap + dropped.expired > 0)
          app.log.warn({ dropped }, 'pending feedback dropped (cap or expiry; docs/feedback.md)');
        return outcomes.filter((o) => o.status === 'joined').length;
      } finally {
        joining = undefined;
      }
    })();
    return joining;
  };
  // Its own job beside the join: a first pass over a large store takes a while, and joins go on meanwhile.
  let retaining: Promise<DroppedPredictions> | undefined;
  const stopRetention = new AbortController();
  const retainNow = (): Promise<DroppedPredictions> => {
    const span = config.retention;
    if (span === undefined) return Promise.resolve({ predictions: 0, feedback: 0 });
    retaining ??= (async () => {
      try {
        const dropped = await options.store.dropPredictions(clock() - span, stopRetention.signal);
        metrics.observeRetention(dropped);
        if (dropped.predictions > 0) app.log.debug({ dropped }, 'retention deleted old predictions');
        return dropped;
      } finally {
        retaining = undefined;
      }
    })();
    return retaining;
  };
  app.decorate('churnwatch', { context, metrics, joinPendingNow, retainNow });

  installErrorHandler(app);
  const logRequests = options.logRequests ?? true;
  app.addHook('onResponse', async (request, reply) => {
    const ms = reply.elapsedTime;
    metrics.observeHttp(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, ms / 1000);
    if (logRequests) {
      app.log.debug(
        { reqId: request.id, method: request.method, url: request.url, statusCode: reply.statusCode, ms },
        'request completed',
      );
    }
  });

  const categories = (name: string) => (options.model ? keptCategories(options.model, name) : undefined);
  for (const schema of [
    customerRecordSchema(fields, categories),
    logRecordSchema(fields, categories),
    Prediction,
    feedbackItemSchema(servedSchema.id, servedSchema.target),
    FeedbackResult,
    ErrorBody,
  ])
    app.addSchema(schema);

  const docs = options.docs ?? true;
  if (docs) {
    await app.register(swagger, {
      openapi: {
        info: {
          title: 'churnwatch',
          description: 'Churn predictions, feedback and monitoring metrics.',
          version: CHURNWATCH_VERSION,
        },
        components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
      },
      // The routes validate with if/then/else (precise errors); the document shows the plain union.
      transform: ({ schema, url }) => {
        if (url === '/predict') {
          return {
            schema: {
              ...schema,
              body: predictBodyDocSchema(config.batchLimit),
              response: { 200: PredictResponse, '4xx': ErrorBody },
            },
            url,
          };
        }
        if (url === '/log') {
          return {
            schema: {
              ...schema,
              body: predictBodyDocSchema(config.batchLimit, LOG_RECORD_ID),
              response: { 200: LogResponse, '4xx': ErrorBody },
            },
            url,
          };
        }
        if (url === '/feedback') {
          return {
            schema: {
              ...schema,
              body: feedbackBodyDocSchema(config.batchLimit),
              response: { 200: FeedbackResponse, '4xx': ErrorBody },
            },
            url,
          };
        }
        return { schema, url };
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  }

  // Token and rate limit, when configured, on the routes clients call (not on /metrics, /healthz,
  // /readyz, /docs, /dashboard); a new client route adds its path here.
  await installClientAccess(app, config, ['/predict', '/feedback', '/log']);
  registerRootRoute(app, context, docs);
  if (monitorOnly) registerNoScorerPredictRoute(app, context);
  else registerPredictRoute(app, context, fields);
  registerLogRoute(app, context, fields);
  registerFeedbackRoute(app, context, servedSchema.id);
  registerHealthRoutes(app, context);
  registerModelRoute(app, context, fields);
  registerMetricsRoute(app, context);
  registerAdminRoute(app, context);
  // The one place the server meets the dashboard: it hands over what the page reads.
  await app.register(dashboardRoutes, {
    cacheMs: config.dashboardCacheMs,
    retentionMs: config.retention,
    source: {
      currentModel: () => models.current?.model,
      clock,
      flush: () => writer.flush(),
      readColumns: (query) => options.store.readColumns(query),
      countFeedback: () => options.store.countFeedback(),
      monitor: asDashboardMonitor(options.observer),
    },
  });

  let timer: NodeJS.Timeout | undefined;
  if (options.periodicJoin ?? true) {
    timer = setInterval(() => {
      joinPendingNow().catch((error: unknown) =>
        app.log.warn({ err: error }, 'joining pending feedback failed'),
      );
      retainNow().catch((error: unknown) =>
        app.log.warn({ err: error }, 'deleting old predictions (retention) failed'),
      );
    }, config.joinIntervalMs);
    timer.unref();
  }
  // A stop writes what was acknowledged at once, rather than after the last connection drained: a
  // client that stops reading its answer would otherwise hold the flush until its socket times out,
  // past the SIGKILL of an orchestrator. Connections still busy after shutdownTimeout are closed.
  let drainTimer: NodeJS.Timeout | undefined;
  app.addHook('preClose', async () => {
    drainTimer = setTimeout(() => {
      app.log.warn(
        { shutdownTimeoutMs: config.shutdownTimeout },
        'closing connections still busy at the shutdown timeout',
      );
      app.server.closeAllConnections();
    }, config.shutdownTimeout);
    drainTimer.unref();
    // Started, not awaited: during a store outage it would wait for the store, and the stop must go on.
    writer.flush().catch(() => undefined);
  });
  // Graceful stop: Fastify stops accepting and drains requests first, then this flushes the log.
  app.addHook('onClose', async () => {
    clearTimeout(drainTimer);
    if (timer) clearInterval(timer);
    await joining?.catch(() => undefined);
    // A long first pass stops after its current transaction; the next start goes on from there.
    stopRetention.abort();
    await retaining?.catch(() => undefined);
    await writer.close();
  });
  return app;
}
