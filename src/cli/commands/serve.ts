/**
 * `churnwatch serve`: loads the model, opens the store, serves the HTTP API until SIGTERM/SIGINT,
 * then shuts down gracefully (stop accepting, finish requests, flush the prediction log, close the store).
 */

import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { type Logger, pino } from 'pino';
import { cliCommand } from '../../cli-command.js';
import { LOG_LEVELS } from '../../config/log-levels.js';
import { DASHBOARD_RANGES } from '../../dashboard/dashboard-data.js';
import { ChurnwatchError } from '../../errors.js';
import { loadModel } from '../../model/model-io.js';
import { createLiveMonitor } from '../../monitor/live-monitor.js';
import type { PredictionObserver } from '../../monitor/prediction-observer.js';
import { buildApp } from '../../server/build-app.js';
import { ACK_MODES, resolveServeConfig, type ServeConfig, type ServeFlags } from '../../server/config.js';
import { createBatchedWriter } from '../../store/batched-writer.js';
import { openStore } from '../../store/open-store.js';
import { redactUrl } from '../../store/redact-url.js';

export interface ServeOptions extends ServeFlags {
  /** Environment to read CHURNWATCH_* settings from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
  readonly observer?: PredictionObserver;
  /** Run the in-process monitor (default true; false or env CHURNWATCH_MONITOR=false for multi-replica mode). */
  readonly monitor?: boolean;
}

export interface RunningServer {
  readonly url: string;
  readonly config: ServeConfig;
  readonly app: FastifyInstance;
  /** Graceful stop: drain requests, flush the log, close the store. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * The server's logger: asynchronous pino on stderr, so per-request lines (at debug) do not block the
 * event loop. At the default level, info, it prints the startup lines, warnings and errors only.
 */
function createServerLogger(level: string): Logger {
  return pino({ name: 'churnwatch-serve', level }, pino.destination({ fd: 2, sync: false, minLength: 4096 }));
}

/** The dashboard's longest range: a shorter retention leaves its older part empty. */
const LONGEST_DASHBOARD_RANGE_MS = Math.max(...Object.values(DASHBOARD_RANGES));

/**
 * Retention shorter than the dashboard's longest range (7 days) is allowed, for demos and tests, but
 * said: the 7d view then shows only the span kept. A `monitor serve --window` age longer than the span
 * is the same mistake (docs/feedback.md, "Retention").
 */
function warnShortRetention(config: ServeConfig, logger: Logger): void {
  if (config.retention === undefined || config.retention >= LONGEST_DASHBOARD_RANGE_MS) return;
  logger.warn(
    { retentionSeconds: config.retention / 1000 },
    `--retention keeps ${config.retention / 1000} s of predictions, less than the dashboard's 7d range; older views will be empty, and a monitor window must not be older than this`,
  );
}

export async function runServe(options: ServeOptions = {}): Promise<RunningServer> {
  const config = resolveServeConfig(options, options.env ?? process.env);
  const logger = options.logger ?? createServerLogger(config.logLevel);
  let model: Awaited<ReturnType<typeof loadModel>>;
  try {
    model = await loadModel(config.modelPath);
  } catch (error) {
    throw new ChurnwatchError(
      'CW_SERVE_NO_MODEL',
      `cannot load the model at ${config.modelPath}: ${(error as Error).message}`,
      {
        hint: `train one first (${cliCommand('train --data data/train.csv')}) or point --model at a models/<version> directory`,
        cause: error,
      },
    );
  }
  logger.info(
    { model: model.info.version, path: config.modelPath },
    `model ${model.info.version} loaded from ${config.modelPath}`,
  );
  const storeName = redactUrl(config.storeUrl);
  const store = openStore(config.storeUrl, {
    poolSize: config.storePoolSize,
    features: model.schema.features,
  });
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  logger.info({ store: storeName }, `store ${storeName} ready`);
  warnShortRetention(config, logger);
  const env = options.env ?? process.env;
  const monitorOn = options.monitor ?? env.CHURNWATCH_MONITOR !== 'false';
  const observer = options.observer ?? (monitorOn ? createLiveMonitor() : undefined);
  const app = await buildApp({
    store,
    model,
    loadModel,
    createWriter: createBatchedWriter,
    config,
    logger,
    ...(observer ? { observer } : {}),
  });
  let url: string;
  try {
    url = await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await app.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw new ChurnwatchError(
      'CW_SERVE_LISTEN',
      `cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`,
      {
        hint: 'choose another --port (or CHURNWATCH_PORT), or stop the process that holds it',
        cause: error,
      },
    );
  }
  const admin = config.adminToken !== undefined;
  const clientTokens = config.apiTokens.length;
  const rateLimit = config.rateLimit ? `${config.rateLimit.max}/${config.rateLimit.windowMs / 1000}s` : 'off';
  // The ack mode decides what a crash can lose (docs/feedback.md, "Durability"), so it is said at start.
  const ack =
    config.ack === 'commit'
      ? `commit (answers once stored; ${config.commitTimeout / 1000}s timeout)`
      : `queued (a crash loses up to ${config.flushIntervalMs} ms of predictions plus the writes under way)`;
  const retention = config.retention === undefined ? 'off' : `${config.retention / 1000}s`;
  logger.info(
    {
      url,
      model: model.info.version,
      store: storeName,
      admin,
      clientTokens,
      rateLimit,
      ack: config.ack,
      retention,
    },
    `serving at ${url} (ack ${ack}; admin routes ${admin ? 'on' : 'off'}; client tokens ${clientTokens || 'off'}; rate limit ${rateLimit}; retention ${retention}; one line per request with --log-level debug)`,
  );
  let closing: Promise<void> | undefined;
  return {
    url,
    config,
    app,
    close() {
      closing ??= (async () => {
        try {
          await app.close();
        } finally {
          await store.close();
          logger.info('stopped');
          logger.flush?.();
        }
      })();
      return closing;
    },
  };
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Serve predictions, feedback and /metrics over HTTP until SIGTERM or SIGINT.')
    .option('--port <port>', 'TCP port (env CHURNWATCH_PORT, default 8000)')
    .option('--host <host>', 'interface to listen on (env CHURNWATCH_HOST, default 0.0.0.0)')
    .option('--model <dir>', 'model directory or models/latest (env CHURNWATCH_MODEL, default models/latest)')
    .option(
      '--store <url>',
      'sqlite:path or postgres://… (env CHURNWATCH_STORE_URL, default sqlite:data/churnwatch.db)',
    )
    .option(
      '--store-pool-size <n>',
      'PostgreSQL connections per process (env CHURNWATCH_STORE_POOL_SIZE, default 10)',
    )
    .option('--batch-limit <n>', 'most records per request (env CHURNWATCH_BATCH_LIMIT, default 1000)')
    .option('--body-limit <size>', 'largest request body, e.g. 4mb (env CHURNWATCH_BODY_LIMIT, default 4mb)')
    .option(
      '--admin-token <token>',
      'Bearer token for POST /admin/reload (env CHURNWATCH_ADMIN_TOKEN; unset: route disabled)',
    )
    // Client access (docs/api.md, "Production"): tokens never on the command line, where ps shows them.
    .option(
      '--api-tokens-file <file>',
      'Bearer tokens /predict, /feedback and /log require, one a line (env CHURNWATCH_API_TOKENS_FILE; tokens also from env CHURNWATCH_API_TOKENS; unset: no token needed)',
    )
    .option(
      '--rate-limit <n/window>',
      'requests per client (token, else IP) on /predict, /feedback and /log, e.g. 100/s or 6000/min; more: 429 (env CHURNWATCH_RATE_LIMIT; default none)',
    )
    .option(
      '--ack <mode>',
      `${ACK_MODES.join('|')}: answer /predict and /log once the predictions are queued, or once the store committed them (env CHURNWATCH_ACK, default queued; docs/feedback.md, "Durability")`,
    )
    .option(
      '--commit-timeout <duration>',
      'with --ack commit, longest wait for the store before 503 CW_STORE_COMMIT_TIMEOUT, e.g. 5s (env CHURNWATCH_COMMIT_TIMEOUT, default 5s)',
    )
    .option(
      '--log-level <level>',
      `${LOG_LEVELS.join('|')}; debug adds one line per request (env CHURNWATCH_LOG_LEVEL, default info)`,
    )
    .option(
      '--request-timeout <duration>',
      'longest time to receive a whole request, e.g. 30s; later: 408 (env CHURNWATCH_REQUEST_TIMEOUT, default 30s)',
    )
    .option(
      '--keep-alive-timeout <duration>',
      'how long an idle connection stays open (env CHURNWATCH_KEEP_ALIVE_TIMEOUT, default 72s)',
    )
    .option(
      '--shutdown-timeout <duration>',
      'on SIGTERM, how long requests in flight may finish before their connections are closed (env CHURNWATCH_SHUTDOWN_TIMEOUT, default 10s)',
    )
    .option(
      '--pending-feedback-max <n>',
      'most feedback items waiting for their prediction; the oldest beyond are dropped (env CHURNWATCH_PENDING_FEEDBACK_MAX, default 100000)',
    )
    .option(
      '--pending-feedback-ttl <duration>',
      'how long feedback waits for its prediction before it is dropped, e.g. 7d (env CHURNWATCH_PENDING_FEEDBACK_TTL, default 7d)',
    )
    .option(
      '--retention <duration>',
      'delete predictions older than this, e.g. 30d, with their feedback (env CHURNWATCH_RETENTION; default: keep forever)',
    )
    .option('--no-monitor', 'no in-process monitor (multi-replica mode: run one `churnwatch monitor serve`)')
    .action(async (flags: Record<string, string | undefined> & { monitor?: boolean }) => {
      const server = await runServe({
        port: flags.port,
        host: flags.host,
        modelPath: flags.model,
        storeUrl: flags.store,
        storePoolSize: flags.storePoolSize,
        batchLimit: flags.batchLimit,
        bodyLimit: flags.bodyLimit,
        adminToken: flags.adminToken,
        apiTokensFile: flags.apiTokensFile,
        rateLimit: flags.rateLimit,
        logLevel: flags.logLevel,
        ack: flags.ack,
        commitTimeout: flags.commitTimeout,
        requestTimeout: flags.requestTimeout,
        keepAliveTimeout: flags.keepAliveTimeout,
        shutdownTimeout: flags.shutdownTimeout,
        pendingFeedbackMax: flags.pendingFeedbackMax,
        pendingFeedbackTtl: flags.pendingFeedbackTtl,
        retention: flags.retention,
        ...(flags.monitor === false ? { monitor: false } : {}),
      });
      process.stdout.write(
        `churnwatch serving ${server.config.modelPath} at ${server.url} (docs: ${server.url}/docs)\n`,
      );
      await new Promise<void>((resolve, reject) => {
        const stop = (signal: NodeJS.Signals) => {
          server.app.log.info({ signal }, 'shutting down');
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          server.close().then(resolve, reject);
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
    });
}
