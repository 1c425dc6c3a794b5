/**
 * The serve settings: defaults with units in one place, overridden by `CHURNWATCH_*` environment
 * variables, then by command-line flags; validated, then frozen.
 */

import { cliCommand } from '../cli-command.js';
import { LOG_LEVELS, type LogLevel } from '../config/log-levels.js';
import { createOptionReader, optionValue } from '../config/option-values.js';
import { ChurnwatchError } from '../errors.js';
import { DEFAULT_POOL_SIZE } from '../store/postgres/postgres-store.js';
import {
  CLIENT_ACCESS_ENV_NAMES,
  type ClientAccessConfig,
  type ClientAccessFlags,
  DEFAULT_CLIENT_ACCESS,
  resolveClientAccess,
} from './client-access-config.js';

/**
 * When POST /predict and POST /log answer: `queued`, once the predictions are in the writer's queue
 * (a crash loses the last flush interval's); `commit`, once the store has committed them. What each
 * promises is stated in one place: docs/feedback.md, "Durability".
 */
export const ACK_MODES = ['queued', 'commit'] as const;
export type AckMode = (typeof ACK_MODES)[number];

/** The client routes' tokens and rate limit are a block of their own (client-access-config.ts). */
export interface ServeConfig extends ClientAccessConfig {
  readonly port: number;
  readonly host: string;
  /** Model artifact directory (or the `models/latest` pointer), re-resolved on reload. */
  readonly modelPath: string;
  /** `sqlite:path` or `postgres://…`. */
  readonly storeUrl: string;
  /**
   * PostgreSQL connections this process may open (SQLite: unused). Every replica has its own pool, so
   * replicas × pool must stay under the server's max_connections (100 by default).
   */
  readonly storePoolSize: number;
  /** Most records accepted in one POST /predict or /feedback batch. */
  readonly batchLimit: number;
  /** Largest request body in bytes (larger: 413). */
  readonly bodyLimit: number;
  /** Bearer token for POST /admin/reload; the route answers 404 when unset. */
  readonly adminToken: string | undefined;
  /** pino level; one line per request is logged at debug, so only `debug` and `trace` show them. */
  readonly logLevel: LogLevel;
  /** Predictions waiting for the store before /predict answers 503. */
  readonly maxQueue: number;
  /** How long /predict waits for room in a full queue before it answers 503, in ms (0: at once). */
  readonly queueWaitMs: number;
  /**
   * How long the first prediction queued after an idle spell waits for others before the write (in
   * `queued` mode; `commit` writes at once), in ms.
   */
  readonly flushIntervalMs: number;
  /** When /predict and /log answer (ACK_MODES). */
  readonly ack: AckMode;
  /** `--ack commit`: how long a request waits for its predictions' write before answering 503, in ms. */
  readonly commitTimeout: number;
  /** Predictions per store transaction. */
  readonly maxWriteBatch: number;
  /** Period of the join of late-arriving feedback (and of the pending cap and expiry), in ms. */
  readonly joinIntervalMs: number;
  /** Most feedback items kept pending; the oldest beyond are dropped (checked every joinIntervalMs). */
  readonly pendingFeedbackMax: number;
  /** How long a feedback item stays pending before it is dropped, in ms. */
  readonly pendingFeedbackTtl: number;
  /**
   * How long predictions are kept, in ms (by the time they were made); undefined keeps them forever.
   * Older ones are deleted, with the feedback resolved to them, every joinIntervalMs.
   */
  readonly retention: number | undefined;
  /** How long one computed /dashboard/data.json answer is reused, in ms (0: computed per request). */
  readonly dashboardCacheMs: number;
  /**
   * Longest time to receive a whole request, headers and body, in ms (Node's requestTimeout); a
   * request still arriving then is answered 408 and its connection closed. The headers must arrive
   * within min(this, HEADERS_TIMEOUT_CAP_MS): see headersTimeoutOf.
   */
  readonly requestTimeout: number;
  /** How long an idle keep-alive connection stays open between requests, in ms. */
  readonly keepAliveTimeout: number;
  /**
   * How long a graceful stop waits for requests in flight before it closes their connections, in ms.
   * The prediction log is flushed when the stop begins, so what was acknowledged is stored even if a
   * slow client holds its connection to the end.
   */
  readonly shutdownTimeout: number;
}

export const DEFAULT_SERVE_CONFIG: ServeConfig = Object.freeze({
  port: 8000,
  host: '0.0.0.0',
  modelPath: 'models/latest',
  storeUrl: 'sqlite:data/churnwatch.db',
  storePoolSize: DEFAULT_POOL_SIZE,
  batchLimit: 1000,
  bodyLimit: 4 * 1024 * 1024,
  adminToken: undefined,
  ...DEFAULT_CLIENT_ACCESS,
  logLevel: 'info',
  // 10,000 queued and 5,000 per write keep the writer thread busy (the next write waits on the writer
  // thread while one runs: batched-writer.ts postBehind) and the server's peak memory under overload
  // under 300 MB: queued rows live long enough to be
  // promoted, and with 20,000 the peak RSS of the batch benchmark was up to ~80 MB higher. Since
  // migration 6, 2,500–10,000 rows per transaction write at the same rate (docs/performance.md).
  maxQueue: 10_000,
  queueWaitMs: 500,
  flushIntervalMs: 50,
  ack: 'queued',
  // As long as /feedback waits for the prediction log (feedback-route.ts): a write that fails is
  // retried after 50, 100, 200… ms, so a few retries fit.
  commitTimeout: 5000,
  maxWriteBatch: 5_000,
  joinIntervalMs: 5000,
  // A label whose prediction has not arrived within a week is almost certainly for a prediction this
  // store never gets (another deployment, a typo); 100,000 bounds a flood of such items (issue 19) at a
  // few MB and a cap check of a few ms. docs/feedback.md, "Pending feedback".
  pendingFeedbackMax: 100_000,
  pendingFeedbackTtl: 7 * 86_400_000,
  // Off: deleting predictions is the operator's decision (docs/feedback.md, "Retention").
  retention: undefined,
  dashboardCacheMs: 2000,
  // A full 4 MB body within 30 s needs ~140 kB/s, far below any link a client of this API uses; a
  // client 30 s into one request is stalled or hostile.
  requestTimeout: 30_000,
  // Longer than the 60 s idle timeout of common proxies and load balancers (nginx, AWS ALB): the proxy,
  // not this server, closes a pooled idle connection, so it never reuses one being closed (a 502).
  // Fastify's default too. An idle connection costs a socket and a few kB, not a request's work.
  keepAliveTimeout: 72_000,
  // Kubernetes sends SIGKILL 30 s after SIGTERM by default: the stop must end well within that.
  shutdownTimeout: 10_000,
});

/**
 * Longest wait for a request's headers. Not a setting of its own: headers are a few hundred bytes
 * that any real client sends at once, so 10 s is generous for all, and short enough that slow-header
 * connections (slowloris) do not hold sockets for Node's 60 s; never above the request timeout (Node
 * requires headersTimeout ≤ requestTimeout).
 */
export const HEADERS_TIMEOUT_CAP_MS = 10_000;

/**
 * The shortest retention accepted. A pass runs every joinIntervalMs; a span shorter than a minute
 * is a unit mistake (`30` read as a duration needs a unit anyway) rather than a plan.
 */
export const MIN_RETENTION_MS = 60_000;

export function headersTimeoutOf(config: Pick<ServeConfig, 'requestTimeout'>): number {
  return Math.min(config.requestTimeout, HEADERS_TIMEOUT_CAP_MS);
}

/** Flag values as commander hands them over (strings, or undefined when not given); tokens come from the environment or a file only. */
export type ServeFlags = Partial<Record<Exclude<keyof ServeConfig, 'apiTokens'>, string | undefined>> &
  ClientAccessFlags;

const ENV_NAMES: Record<keyof ServeConfig, string> = {
  port: 'CHURNWATCH_PORT',
  host: 'CHURNWATCH_HOST',
  modelPath: 'CHURNWATCH_MODEL',
  storeUrl: 'CHURNWATCH_STORE_URL',
  storePoolSize: 'CHURNWATCH_STORE_POOL_SIZE',
  batchLimit: 'CHURNWATCH_BATCH_LIMIT',
  bodyLimit: 'CHURNWATCH_BODY_LIMIT',
  adminToken: 'CHURNWATCH_ADMIN_TOKEN',
  ...CLIENT_ACCESS_ENV_NAMES,
  logLevel: 'CHURNWATCH_LOG_LEVEL',
  maxQueue: 'CHURNWATCH_MAX_QUEUE',
  queueWaitMs: 'CHURNWATCH_QUEUE_WAIT_MS',
  flushIntervalMs: 'CHURNWATCH_FLUSH_INTERVAL_MS',
  ack: 'CHURNWATCH_ACK',
  commitTimeout: 'CHURNWATCH_COMMIT_TIMEOUT',
  maxWriteBatch: 'CHURNWATCH_WRITE_BATCH',
  joinIntervalMs: 'CHURNWATCH_JOIN_INTERVAL_MS',
  pendingFeedbackMax: 'CHURNWATCH_PENDING_FEEDBACK_MAX',
  pendingFeedbackTtl: 'CHURNWATCH_PENDING_FEEDBACK_TTL',
  retention: 'CHURNWATCH_RETENTION',
  dashboardCacheMs: 'CHURNWATCH_DASHBOARD_CACHE_MS',
  requestTimeout: 'CHURNWATCH_REQUEST_TIMEOUT',
  keepAliveTimeout: 'CHURNWATCH_KEEP_ALIVE_TIMEOUT',
  shutdownTimeout: 'CHURNWATCH_SHUTDOWN_TIMEOUT',
};

export const SERVE_ENV_NAMES: Readonly<Record<keyof ServeConfig, string>> = Object.freeze(ENV_NAMES);

/** Bytes from `1048576`, `512kb`, `4mb` or `1gb` (powers of 1024). */
export function parseByteSize(raw: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(raw);
  if (!match) return undefined;
  const scale = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(match[2] ?? 'b').toLowerCase() as 'b'];
  const bytes = Math.round(Number(match[1]) * scale);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

/** Merges defaults < environment < flags and checks every value. */
export function resolveServeConfig(flags: ServeFlags = {}, env: NodeJS.ProcessEnv = {}): ServeConfig {
  const opt = createOptionReader(flags, env, {
    code: 'CW_SERVE_BAD_OPTION',
    hint: `see ${cliCommand('serve --help')} for the flags and their CHURNWATCH_* variables`,
  });
  const d = DEFAULT_SERVE_CONFIG;
  const raw = (key: keyof ServeConfig) => opt.string(key, ENV_NAMES[key]);
  const bodyLimitRaw = optionValue(flags, 'bodyLimit', env, ENV_NAMES.bodyLimit);
  let bodyLimit = d.bodyLimit;
  if (bodyLimitRaw !== undefined) {
    const parsed = parseByteSize(bodyLimitRaw.value);
    if (parsed === undefined)
      throw opt.error(
        `${bodyLimitRaw.name} must be a size such as 4mb, got "${bodyLimitRaw.value}"`,
        'use a byte count or a number with kb, mb or gb',
      );
    bodyLimit = parsed;
  }
  /** A duration (`30s`, `1.5m`) from `min` (1 s by default) to 1 h in ms, refused naming the flag or variable given. */
  const timeout = (
    key: 'requestTimeout' | 'keepAliveTimeout' | 'commitTimeout' | 'shutdownTimeout',
    fallback: number,
    min = { ms: 1000, text: '1s' },
  ) => {
    const ms = opt.duration(key, ENV_NAMES[key], { example: '30s' });
    if (ms === undefined) return fallback;
    if (ms < min.ms || ms > 3_600_000) {
      const given = optionValue(flags, key, env, ENV_NAMES[key])!;
      throw opt.error(
        `${given.name} must be a duration from ${min.text} to 1h, got "${given.value}"`,
        `e.g. ${given.name} 30s`,
      );
    }
    return ms;
  };
  /** The retention span: a duration of at least MIN_RETENTION_MS. */
  const retention = () => {
    const ms = opt.duration('retention', ENV_NAMES.retention, { example: '30d' });
    if (ms !== undefined && ms < MIN_RETENTION_MS) {
      const given = optionValue(flags, 'retention', env, ENV_NAMES.retention)!;
      throw opt.error(
        `${given.name} must be a duration of at least 1m, got "${given.value}"`,
        `e.g. ${given.name} 30d; leave it unset to keep predictions forever`,
      );
    }
    return ms;
  };
  const num = (key: keyof ServeConfig, min: number, max: number, fallback: number) =>
    opt.integer(key, ENV_NAMES[key], { min, max }) ?? fallback;
  const config: ServeConfig = {
    port: num('port', 0, 65535, d.port),
    host: raw('host') ?? d.host,
    modelPath: raw('modelPath') ?? d.modelPath,
    storeUrl: raw('storeUrl') ?? d.storeUrl,
    storePoolSize: num('storePoolSize', 1, 1000, d.storePoolSize),
    batchLimit: num('batchLimit', 1, 100_000, d.batchLimit),
    bodyLimit,
    adminToken: raw('adminToken') ?? d.adminToken,
    ...resolveClientAccess(flags, env, opt),
    logLevel: opt.choice('logLevel', ENV_NAMES.logLevel, LOG_LEVELS) ?? d.logLevel,
    maxQueue: num('maxQueue', 1, 10_000_000, d.maxQueue),
    queueWaitMs: num('queueWaitMs', 0, 60_000, d.queueWaitMs),
    flushIntervalMs: num('flushIntervalMs', 1, 60_000, d.flushIntervalMs),
    ack: opt.choice('ack', ENV_NAMES.ack, ACK_MODES) ?? d.ack,
    commitTimeout: timeout('commitTimeout', d.commitTimeout, { ms: 100, text: '0.1s' }),
    maxWriteBatch: num('maxWriteBatch', 1, 1_000_000, d.maxWriteBatch),
    joinIntervalMs: num('joinIntervalMs', 100, 3_600_000, d.joinIntervalMs),
    pendingFeedbackMax: num('pendingFeedbackMax', 0, 100_000_000, d.pendingFeedbackMax),
    pendingFeedbackTtl:
      opt.duration('pendingFeedbackTtl', ENV_NAMES.pendingFeedbackTtl, { example: '7d' }) ??
      d.pendingFeedbackTtl,
    retention: retention() ?? d.retention,
    dashboardCacheMs: num('dashboardCacheMs', 0, 3_600_000, d.dashboardCacheMs),
    requestTimeout: timeout('requestTimeout', d.requestTimeout),
    keepAliveTimeout: timeout('keepAliveTimeout', d.keepAliveTimeout),
    shutdownTimeout: timeout('shutdownTimeout', d.shutdownTimeout, { ms: 100, text: '0.1s' }),
  };
  if (config.batchLimit > config.maxQueue) {
    // Such a batch would never fit in the queue: every one would wait and then be refused with 503.
    throw new ChurnwatchError(
      'CW_SERVE_BAD_OPTION',
      `batchLimit (${config.batchLimit}) must not exceed maxQueue (${config.maxQueue}): a batch larger than the queue could never be accepted`,
      { hint: 'lower --batch-limit (CHURNWATCH_BATCH_LIMIT) or raise CHURNWATCH_MAX_QUEUE' },
    );
  }
  return Object.freeze(config);
}
