/**
 * `churnwatch monitor analyze`: chunked drift, quality and performance over the stored prediction log.
 * `churnwatch monitor serve`: the monitor role for several API replicas on one PostgreSQL store; it tails
 * the store into a sliding window and exports the monitor gauges on its own /metrics.
 */
import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { LOG_LEVELS } from '../../config/log-levels.js';
import { createOptionReader, parseDuration, parseInteger } from '../../config/option-values.js';
import { ChurnwatchError } from '../../errors.js';
import type { ChurnModel } from '../../model/churn-model.js';
import { loadModel } from '../../model/model-io.js';
import {
  analyzeChunks,
  type Chunking,
  type ChunkSeries,
  parseDuration as durationMs,
} from '../../monitor/chunks.js';
import { buildMonitorApp } from '../../monitor/monitor-server.js';
import { createStoreTailer, type StoreTailer } from '../../monitor/store-tailer.js';
import type { WindowOptions } from '../../monitor/windows.js';
import { DEFAULT_STORE_URL, openStore } from '../../store/open-store.js';
import type { PredictionStore } from '../../store/prediction-store.js';
import { redactUrl } from '../../store/redact-url.js';
import { createCliLogger } from '../logger.js';

export const MONITOR_DEFAULTS = Object.freeze({
  modelPath: 'models/latest',
  storeUrl: DEFAULT_STORE_URL,
  chunk: '1d',
  port: 9100,
  host: '0.0.0.0',
  pollMs: 2000,
});

const BAD_OPTION = { code: 'CW_MONITOR_BAD_OPTION' } as const;

function badOption(message: string, hint: string): ChurnwatchError {
  return new ChurnwatchError(BAD_OPTION.code, message, { hint });
}

async function loadMonitorModel(path: string): Promise<ChurnModel> {
  try {
    return await loadModel(path);
  } catch (error) {
    throw new ChurnwatchError(
      'CW_MONITOR_NO_MODEL',
      `cannot load the model at ${path}: ${(error as Error).message}`,
      {
        hint: 'point --model (or CHURNWATCH_MODEL) at a models/<version> directory or models/latest',
        cause: error,
      },
    );
  }
}

/** The store with the model's features registered (a column each), as the server opens it. */
async function openMigrated(url: string, model: ChurnModel): Promise<PredictionStore> {
  const store = openStore(url, { features: model.schema.features });
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  return store;
}

// ---------------------------------------------------------------------------------------------------
// monitor analyze

export interface MonitorAnalyzeOptions {
  readonly store?: string | undefined;
  readonly model?: string | undefined;
  /** Period such as 1h or 1d (default 1d unless chunkSize is given). */
  readonly chunk?: string | undefined;
  /** Rows per chunk instead of a period. */
  readonly chunkSize?: string | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
}

export interface MonitorAnalyzeResult {
  readonly series: ChunkSeries;
  /** The table printed without --json. */
  readonly table: string;
}

export function resolveChunking(chunk: string | undefined, chunkSize: string | undefined): Chunking {
  if (chunk !== undefined && chunkSize !== undefined)
    throw badOption(
      'give either --chunk or --chunk-size, not both',
      'use --chunk 1h for time chunks or --chunk-size 5000 for row chunks',
    );
  if (chunkSize !== undefined)
    return { rows: parseInteger('--chunk-size', chunkSize, { ...BAD_OPTION, min: 1, example: '5000' }) };
  return {
    periodMs: parseDuration('--chunk', chunk ?? MONITOR_DEFAULTS.chunk, { ...BAD_OPTION, example: '6h' }),
  };
}

function pct(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : `${(100 * x).toFixed(1)}`;
}

function num(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(3);
}

/** One line per chunk: what a terminal can show. */
export function formatChunkTable(series: ChunkSeries): string {
  const header = [
    'start (UTC)',
    'rows',
    'labeled%',
    'drifted',
    'est acc',
    'est f1',
    'real acc',
    'real f1',
    'alerts',
  ];
  const lines = series.chunks.map((c) => [
    new Date(c.from).toISOString().replace('.000Z', 'Z'),
    String(c.rows),
    pct(c.labelCoverage),
    c.drift
      .filter((d) => d.drifted)
      .map((d) => d.feature)
      .join(',') || '-',
    num(c.estimated?.accuracy),
    num(c.estimated?.f1),
    num(c.realized?.accuracy),
    num(c.realized?.f1),
    String(c.alerts.length),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const chunking = series.chunking.rows
    ? `${series.chunking.rows} rows`
    : `${(series.chunking.periodMs ?? 0) / 1000} s`;
  return [
    `model ${series.modelVersion}, threshold ${series.threshold.toFixed(4)}, ${series.rows} predictions in ${series.chunks.length} chunks of ${chunking}`,
    row(header),
    ...lines.map(row),
  ].join('\n');
}

export async function runMonitorAnalyze(options: MonitorAnalyzeOptions = {}): Promise<MonitorAnalyzeResult> {
  const opt = createOptionReader(options, options.env ?? process.env, BAD_OPTION);
  const chunking = resolveChunking(options.chunk, options.chunkSize);
  const from = opt.time('from');
  const to = opt.time('to');
  const modelPath = opt.string('model', 'CHURNWATCH_MODEL') ?? MONITOR_DEFAULTS.modelPath;
  const storeUrl = opt.string('store', 'CHURNWATCH_STORE_URL') ?? MONITOR_DEFAULTS.storeUrl;
  const logger = options.logger ?? createCliLogger('churnwatch-monitor');
  const model = await loadMonitorModel(modelPath);
  const store = await openMigrated(storeUrl, model);
  try {
    const t0 = performance.now();
    const columns = await store.readColumns({
      modelVersion: model.info.version,
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
    });
    logger.info(
      { rows: columns.rowCount, seconds: (performance.now() - t0) / 1000, store: redactUrl(storeUrl) },
      'read the prediction log',
    );
    const series = analyzeChunks(
      { version: model.info.version, threshold: model.info.threshold, profile: model.profile },
      columns,
      { chunking, validation: { accuracy: model.info.validation.accuracy, f1: model.info.validation.f1 } },
    );
    return { series, table: formatChunkTable(series) };
  } finally {
    await store.close();
  }
}

// ---------------------------------------------------------------------------------------------------
// monitor serve

export interface MonitorServeOptions {
  readonly store?: string | undefined;
  readonly model?: string | undefined;
  readonly port?: string | undefined;
  readonly host?: string | undefined;
  /** `5000` (rows), `1h` (age) or both, comma-separated: `5000,1h`. */
  readonly window?: string | undefined;
  readonly pollMs?: string | undefined;
  /** pino level of the monitor's own lines (it logs no line per request). */
  readonly logLevel?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
}

export interface RunningMonitor {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly tailer: StoreTailer;
  close(): Promise<void>;
}

/** Parses `--window`: a row count, a duration, or both separated by a comma. */
export function parseWindowOption(raw: string | undefined): Partial<WindowOptions> {
  if (raw === undefined) return {};
  const out: { maxRows?: number; maxAgeMs?: number } = {};
  for (const part of raw.split(',').map((p) => p.trim())) {
    if (/^\d+$/.test(part) && Number(part) >= 1) out.maxRows = Number(part);
    else {
      const ms = durationMs(part);
      if (ms === undefined)
        throw badOption(
          `--window must be a row count, a duration or both (e.g. 5000,1h), got "${raw}"`,
          'e.g. --window 5000 or --window 1h',
        );
      out.maxAgeMs = ms;
    }
  }
  return out;
}

export async function runMonitorServe(options: MonitorServeOptions = {}): Promise<RunningMonitor> {
  const opt = createOptionReader(options, options.env ?? process.env, BAD_OPTION);
  const modelPath = opt.string('model', 'CHURNWATCH_MODEL') ?? MONITOR_DEFAULTS.modelPath;
  const storeUrl = opt.string('store', 'CHURNWATCH_STORE_URL') ?? MONITOR_DEFAULTS.storeUrl;
  const listenPort =
    opt.integer('port', 'CHURNWATCH_MONITOR_PORT', { min: 0, max: 65535, example: '9100' }) ??
    MONITOR_DEFAULTS.port;
  const host = opt.string('host', 'CHURNWATCH_MONITOR_HOST') ?? MONITOR_DEFAULTS.host;
  const window = parseWindowOption(opt.string('window', 'CHURNWATCH_MONITOR_WINDOW'));
  const pollMs =
    opt.integer('pollMs', 'CHURNWATCH_MONITOR_POLL_MS', { min: 100, example: '2000' }) ??
    MONITOR_DEFAULTS.pollMs;
  const logLevel = opt.choice('logLevel', 'CHURNWATCH_LOG_LEVEL', LOG_LEVELS) ?? 'info';
  const logger = options.logger ?? createCliLogger('churnwatch-monitor', logLevel);
  const model = await loadMonitorModel(modelPath);
  const store = await openMigrated(storeUrl, model);
  const tailer = createStoreTailer({
    store,
    model,
    window,
    pollMs,
    labelRefreshMs: Math.max(pollMs, 10_000),
    onError: (error) => logger.warn({ err: error }, 'reading the prediction log failed; retrying'),
  });
  let app: FastifyInstance | undefined;
  try {
    const loaded = await tailer.start();
    logger.info(
      { model: model.info.version, rows: loaded.added, labeled: loaded.labeled },
      'window filled from the store',
    );
    tailer.run();
    app = await buildMonitorApp({ tailer, model });
    const url = await app.listen({ port: listenPort, host });
    logger.info({ url, store: redactUrl(storeUrl), window: tailer.window.options }, 'monitor serving');
    const running = app;
    let closing: Promise<void> | undefined;
    return {
      url,
      app: running,
      tailer,
      close() {
        closing ??= (async () => {
          try {
            await running.close();
            await tailer.stop();
          } finally {
            await store.close();
          }
        })();
        return closing;
      },
    };
  } catch (error) {
    await app?.close().catch(() => undefined);
    await tailer.stop();
    await store.close().catch(() => undefined);
    if (error instanceof ChurnwatchError) throw error;
    if (
      (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ||
      (error as NodeJS.ErrnoException).code === 'EACCES'
    )
      throw new ChurnwatchError(
        'CW_MONITOR_LISTEN',
        `cannot listen on ${host}:${listenPort}: ${(error as Error).message}`,
        {
          hint: 'choose another --port (or CHURNWATCH_MONITOR_PORT), or stop the process that holds it',
          cause: error,
        },
      );
    throw error;
  }
}

export function registerMonitorCommand(program: Command): void {
  const monitor = program
    .command('monitor')
    .description('Analyse the stored prediction log, or run the monitor role for several API replicas.');
  monitor
    .command('analyze')
    .description('Drift, data quality and performance of the stored predictions, chunk by chunk.')
    .option(
      '--store <url>',
      `sqlite:path or postgres://… (env CHURNWATCH_STORE_URL, default ${MONITOR_DEFAULTS.storeUrl})`,
    )
    .option('--model <dir>', `model directory (env CHURNWATCH_MODEL, default ${MONITOR_DEFAULTS.modelPath})`)
    .option('--chunk <period>', `time chunks: 30m, 1h, 1d… (default ${MONITOR_DEFAULTS.chunk})`)
    .option('--chunk-size <n>', 'row chunks of n predictions instead of time chunks')
    .option('--from <time>', 'first prediction time (ISO 8601 or ms), inclusive')
    .option('--to <time>', 'last prediction time (ISO 8601 or ms), exclusive')
    .option('--json', 'print the chunk series as JSON')
    .action(async (flags: Record<string, string | boolean | undefined>) => {
      const result = await runMonitorAnalyze({
        store: flags.store as string | undefined,
        model: flags.model as string | undefined,
        chunk: flags.chunk as string | undefined,
        chunkSize: flags.chunkSize as string | undefined,
        from: flags.from as string | undefined,
        to: flags.to as string | undefined,
      });
      process.stdout.write(flags.json ? `${JSON.stringify(result.series, null, 2)}\n` : `${result.table}\n`);
    });
  monitor
    .command('serve')
    .description('Tail the shared store into a sliding window and export the monitor gauges on /metrics.')
    .option(
      '--store <url>',
      `postgres://… or sqlite:path (env CHURNWATCH_STORE_URL, default ${MONITOR_DEFAULTS.storeUrl})`,
    )
    .option('--model <dir>', `model directory (env CHURNWATCH_MODEL, default ${MONITOR_DEFAULTS.modelPath})`)
    .option('--port <port>', `TCP port (env CHURNWATCH_MONITOR_PORT, default ${MONITOR_DEFAULTS.port})`)
    .option('--host <host>', `interface (env CHURNWATCH_MONITOR_HOST, default ${MONITOR_DEFAULTS.host})`)
    .option(
      '--window <spec>',
      'rows, age or both: 5000 | 1h | 5000,1h (env CHURNWATCH_MONITOR_WINDOW; default the calibrated window size)',
    )
    .option(
      '--poll-ms <ms>',
      `store poll period (env CHURNWATCH_MONITOR_POLL_MS, default ${MONITOR_DEFAULTS.pollMs})`,
    )
    .option('--log-level <level>', `${LOG_LEVELS.join('|')} (env CHURNWATCH_LOG_LEVEL, default info)`)
    .action(async (flags: Record<string, string | undefined>) => {
      const running = await runMonitorServe({
        store: flags.store,
        model: flags.model,
        port: flags.port,
        host: flags.host,
        window: flags.window,
        pollMs: flags.pollMs,
        logLevel: flags.logLevel,
      });
      process.stdout.write(
        `churnwatch monitor serving ${running.tailer.window.modelVersion} at ${running.url}/metrics\n`,
      );
      await new Promise<void>((resolve, reject) => {
        const stop = () => {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          running.close().then(resolve, reject);
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
    });
}
